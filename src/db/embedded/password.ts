// The embedded cluster's password: random per cluster, kept beside the cluster's directory in a file
// only its owner can read (DATA_DIR/postgres.password), where the CLI finds it too.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** What clusters made before per-cluster passwords used; replaced at their next start. */
export const LEGACY_PASSWORD = 'vidq';

export function passwordFileFor(clusterOption: string): string {
  return `${clusterOption.replace(/\/+$/, '')}.password`;
}

export async function readPassword(file: string): Promise<string | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  return text?.trim() || null;
}

/** A new password, written (mode 0600) before the cluster is made to use it. */
export async function writeNewPassword(file: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const partial = `${file}.${process.pid}.tmp`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(partial, `${password}\n`, { mode: 0o600 });
  await fs.rename(partial, file);
  return password;
}
