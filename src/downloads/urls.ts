// Download URLs of a job's output files, which a browser or a <video> tag can fetch without the API key:
// the bucket's presigned URL with s3 storage, else a signed, expiring URL served by this server (/files,
// route.ts). Used by the API (jobOutput), the worker (the job.completed webhook) and redeliveries.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { jobStages, settings } from '../db/schema/index';
import type { Services } from '../services';
import { outputKey } from '../storage/keys';

interface OutputFileRef {
  path: string;
  contentType: string;
  kind?: string;
}

/** An output file with a download URL needing no API key, as the job.completed webhook lists it. */
export interface OutputFileWithUrl {
  kind: string;
  stage: string;
  path: string;
  contentType: string;
  sizeBytes: number;
  url: string;
}

/**
 * Files that refer to each other by relative URIs (an HLS master playlist → rendition playlists →
 * segments) get URLs signed for their whole directory: /files/<job>/~<expires>.<signature>/hls/…, so a
 * player resolving `720p/index.m3u8` against the master's URL lands on a valid URL too. Served by this
 * server whatever the storage driver (a presigned bucket URL signs one object only).
 */
const DIRECTORY_SIGNED_KINDS: Record<string, string> = { hls: 'hls/' };

export const DOWNLOAD_URL_TTL_SECONDS = 24 * 3600;
const SECRET_KEY = 'download_url_secret';

let cachedSecret: { db: Db; value: string } | null = null;

/** The key that signs download URLs, shared by every process through the database. */
export async function downloadSecret(db: Db): Promise<string> {
  if (cachedSecret?.db === db) return cachedSecret.value;
  await db
    .insert(settings)
    .values({ key: SECRET_KEY, value: randomBytes(32).toString('base64url') })
    .onConflictDoNothing();
  const [row] = await db.select().from(settings).where(eq(settings.key, SECRET_KEY));
  cachedSecret = { db, value: row.value };
  return row.value;
}

function signature(secret: string, jobId: string, file: string, expires: number): string {
  return createHmac('sha256', secret).update(`${jobId}/${file}:${expires}`).digest('base64url');
}

export async function downloadUrl(services: Pick<Services, 'database' | 'storage'>, origin: string, jobId: string, file: OutputFileRef): Promise<string> {
  const directory = file.kind ? DIRECTORY_SIGNED_KINDS[file.kind] : undefined;
  if (directory && file.path.startsWith(directory)) return signedDirectoryUrl(services.database.db, origin, jobId, directory, file.path);
  const presigned = await services.storage.presignedUrl(outputKey(jobId, file.path), {
    expiresInSeconds: DOWNLOAD_URL_TTL_SECONDS,
    contentType: file.contentType,
  });
  return presigned ?? signedDownloadUrl(services.database.db, origin, jobId, file.path);
}

/**
 * A finished job's files with their download URLs, as the job.completed webhook carries them. Built by
 * the worker, which has no request: links use PUBLIC_URL (else http://localhost:PORT) or the bucket's.
 */
export async function outputFilesWithUrls(services: Pick<Services, 'database' | 'storage' | 'config'>, jobId: string): Promise<OutputFileWithUrl[]> {
  const origin = services.config.publicUrl ?? `http://localhost:${services.config.port}`;
  const stages = await services.database.db.select({ name: jobStages.name, files: jobStages.files }).from(jobStages).where(eq(jobStages.jobId, jobId));
  const files = stages.flatMap((stage) => (stage.files ?? []).map((file) => ({ ...file, stage: stage.name })));
  return Promise.all(
    files.map(async (file) => ({
      kind: file.kind,
      stage: file.stage,
      path: file.path,
      contentType: file.contentType,
      sizeBytes: file.sizeBytes,
      url: await downloadUrl(services, origin, jobId, file),
    })),
  );
}

export async function signedDownloadUrl(db: Db, origin: string, jobId: string, file: string, now = Date.now()): Promise<string> {
  const expires = Math.floor(now / 1000) + DOWNLOAD_URL_TTL_SECONDS;
  const sig = signature(await downloadSecret(db), jobId, file, expires);
  const encoded = file.split('/').map(encodeURIComponent).join('/');
  return `${origin}/files/${jobId}/${encoded}?expires=${expires}&signature=${sig}`;
}

export async function signedDirectoryUrl(db: Db, origin: string, jobId: string, directory: string, file: string, now = Date.now()): Promise<string> {
  const expires = Math.floor(now / 1000) + DOWNLOAD_URL_TTL_SECONDS;
  const sig = signature(await downloadSecret(db), jobId, `${directory}*`, expires);
  const encoded = file.split('/').map(encodeURIComponent).join('/');
  return `${origin}/files/${jobId}/~${expires}.${sig}/${encoded}`;
}

/** The file and the signature check of a download path: per file (?expires&signature) or per directory (~expires.signature/). */
export function parseDownloadPath(
  url: URL,
): { jobId: string; rawFile: string; check: (secret: string, file: string) => { ok: boolean; expires: number } } | null {
  const directory = /^\/files\/(job_[a-z0-9]+)\/~(\d+)\.([A-Za-z0-9_-]+)\/(.+)$/.exec(url.pathname);
  if (directory) {
    const [, jobId, expiresText, sig, rawFile] = directory;
    const expires = Number(expiresText);
    return {
      jobId,
      rawFile,
      check: (secret, file) => {
        const scope = Object.values(DIRECTORY_SIGNED_KINDS).find((dir) => file.startsWith(dir));
        return { ok: scope !== undefined && !file.includes('..') && safeEqual(sig, signature(secret, jobId, `${scope}*`, expires)), expires };
      },
    };
  }
  const single = /^\/files\/(job_[a-z0-9]+)\/(.+)$/.exec(url.pathname);
  if (!single) return null;
  const [, jobId, rawFile] = single;
  const expires = Number(url.searchParams.get('expires'));
  return {
    jobId,
    rawFile,
    check: (secret, file) => ({ ok: safeEqual(url.searchParams.get('signature') ?? '', signature(secret, jobId, file, expires)), expires }),
  };
}

function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
