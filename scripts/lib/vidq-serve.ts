// A `vidq serve` for the README's pictures, started the way a user starts it: a fresh embedded database in
// a temporary directory, users and keys made with the CLI. stop() leaves nothing behind: the process,
// the directory, and (as root) the cluster linked from DATA_DIR/postgres under /var/lib/vidq.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../test/helpers/pg-urls';

const run = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface VidqServe {
  url: string;
  port: number;
  /** The temporary directory: DATA_DIR is its `data`; put anything else the script makes here. */
  work: string;
  /** `npx vidq ARGS --json`, parsed. */
  cli(...args: string[]): Promise<any>;
  stop(): Promise<void>;
}

export async function startVidqServe(name: string, extraEnv: Record<string, string> = {}): Promise<VidqServe> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `vidq-${name}-`));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: path.join(work, 'data'),
    PORT: String(port),
    LOG_LEVEL: 'warn',
    JOB_STAGES: 'probe,thumbnails,transcode',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  const server = spawn(process.execPath, ['bin/vidq.js', 'serve'], { cwd: ROOT, env, stdio: 'inherit' });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600 && (await fetch(`${url}/health`).catch(() => null))?.status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  return {
    url,
    port,
    work,
    cli: async (...args) => JSON.parse((await run(process.execPath, ['bin/vidq.js', ...args, '--json'], { cwd: ROOT, env })).stdout),
    async stop() {
      server.kill('SIGTERM');
      await exited;
      const cluster = await fs.readlink(path.join(work, 'data', 'postgres')).catch(() => null);
      if (cluster) await fs.rm(cluster, { recursive: true, force: true });
      await fs.rm(work, { recursive: true, force: true });
    },
  };
}
