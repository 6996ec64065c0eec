// s3rver for benchmarks, in its own process as a bucket would be: in the benchmark's process its event
// loop would hold up the client that sends the load.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface S3Process {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

export async function startS3Process(bucket = 'vidq-bench'): Promise<S3Process> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve-s3', bucket], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect(); // the server closes and exits when its parent lets go
      await exited;
    },
  };
}

if (process.argv[2] === '--serve-s3') {
  const { startS3 } = await import('../../test/helpers/s3');
  const s3 = await startS3(process.argv[3]);
  process.on('disconnect', () => void s3.close().finally(() => process.exit(0)));
  process.send!({ port: s3.port });
}
