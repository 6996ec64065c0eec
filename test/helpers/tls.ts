// A self-signed TLS certificate for 127.0.0.1, made by openssl at test time (openssl comes with
// Debian's ca-certificates).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface Certificate {
  keyPath: string;
  certPath: string;
  key: Buffer;
  cert: Buffer;
}

export async function selfSignedCertificate(dir: string): Promise<Certificate> {
  const keyPath = path.join(dir, 'server.key');
  const certPath = path.join(dir, 'server.crt');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return { keyPath, certPath, key: await readFile(keyPath), cert: await readFile(certPath) };
}
