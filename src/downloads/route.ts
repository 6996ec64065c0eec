// GET /files/…: serves an output file to whoever holds a signed, unexpired download URL (urls.ts signs
// them), with single ranges for video players, whatever the storage driver.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { HttpRoute } from '../server/route';
import type { Services } from '../services';
import { assertKey } from '../storage/types';
import { outputKey } from '../storage/keys';
import { contentTypeOf } from '../pipeline/content-types';
import { downloadSecret, parseDownloadPath } from './urls';

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
