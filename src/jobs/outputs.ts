// Download URLs of output files, which a browser or a <video> tag can fetch without the API key: the
// bucket's presigned URL with s3 storage, else a signed, expiring URL served by this server (/files).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { jobStages, settings } from '../db/schema/index';
import type { WebhookOutputFile } from '../webhooks/events';
import type { HttpRoute } from '../server/route';
import type { Services } from '../services';
import { assertKey } from '../storage/types';
import { contentTypeOf } from '../pipeline/content-types';
import { outputKey } from '../storage/keys';

interface OutputFileRef {
  path: string;
  contentType: string;
  kind?: string;
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
export async function outputFilesWithUrls(services: Pick<Services, 'database' | 'storage' | 'config'>, jobId: string): Promise<WebhookOutputFile[]> {
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
function parseDownloadPath(url: URL): { jobId: string; rawFile: string; check: (secret: string, file: string) => { ok: boolean; expires: number } } | null {
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

function fail(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: message }));
}

/** GET /files/<jobId>/<file>?expires=…&signature=… with single-range support for video players. */
export function fileDownloadRoute(services: Services): HttpRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const match = parseDownloadPath(url);
    if (!match || (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS')) return false;
    // CORS: a web app may fetch, seek (Range) and draw (<video crossorigin>, canvas, MSE) the files.
    res.setHeader('access-control-allow-origin', services.config.filesCorsOrigin);
    if (services.config.filesCorsOrigin !== '*') res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, HEAD', 'access-control-allow-headers': 'Range', 'access-control-max-age': '86400' });
      res.end();
      return true;
    }
    const { jobId, rawFile } = match;
    let file: string;
    try {
      file = decodeURIComponent(rawFile);
    } catch {
      fail(res, 404, 'No such file.'); // not percent-encoding any URL of ours produced
      return true;
    }
    const { ok, expires } = match.check(await downloadSecret(services.database.db), file);
    if (!ok) {
      fail(res, 403, 'Invalid download signature. Ask the API for a fresh URL (jobOutput).');
      return true;
    }
    if (!Number.isFinite(expires) || expires * 1000 < Date.now()) {
      fail(res, 410, 'This download URL has expired. Ask the API for a fresh one (jobOutput).');
      return true;
    }
    let key: string;
    try {
      key = outputKey(jobId, file);
      assertKey(key);
    } catch {
      fail(res, 404, 'No such file.');
      return true;
    }
    const [{ exists }] = await services.database.sql`select exists(select 1 from jobs where id = ${jobId}) as exists`;
    const size = exists ? (await services.storage.stat(key))?.size : undefined;
    if (size === undefined) {
      fail(res, 404, 'No such file: the job may have been removed after its retention period.');
      return true;
    }
    const headers: Record<string, string | number> = {
      'content-type': contentTypeOf(file),
      'accept-ranges': 'bytes',
      'cache-control': 'private, max-age=3600',
    };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range && (range[1] || range[2])) {
      start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return true;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = end - start + 1;
    if (req.method === 'HEAD') {
      res.writeHead(status, headers);
      res.end();
      return true;
    }
    // Opened before anything is answered: a file removed meanwhile (retention, deleteVideo) is a 404
    // here, and once open it is read to the end even if it is removed during the download.
    const object = await services.storage.get(key, size ? { start, end } : undefined);
    if (!object) {
      fail(res, 404, 'No such file: the job may have been removed after its retention period.');
      return true;
    }
    res.writeHead(status, headers);
    // pipeline: a read error or a client that leaves ends both streams (and closes the file) instead
    // of an unhandled 'error' event.
    await pipeline(object.body, res).catch(() => {});
    return true;
  };
}
