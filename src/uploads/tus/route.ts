// The tus 1.0.0 endpoint at /uploads (creation, creation-with-upload, termination, expiration), so
// tus-js-client and Uppy resume large uploads over flaky networks. @tus/server speaks the protocol; vidq
// adds, before any byte is accepted: the API key (401), the creator as the upload's owner (anyone
// else's HEAD, PATCH or DELETE is a 404), and the early refusals (413 over MAX_FILE_SIZE_MB, 415 for an
// unsupported extension, 400 without a filename). A finished upload becomes a video through the
// createVideoFromUpload mutation (create-video.ts), which runs uploadVideo's checks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRORS, EVENTS, Server } from '@tus/server';
import { authenticate, AuthenticationError } from '../../auth/authenticate';
import { newId } from '../../db/ids';
import type { Limits } from '../../limits/index';
import { metrics } from '../../metrics/index';
import type { HttpRoute } from '../../server/route';
import { currentRequest } from '../../server/request-context';
import type { Services } from '../../services';
import { extensionDetail, extensionOf, isSupportedFormat, sanitizeFilename } from '../formats';
import { moveFinishedUpload, sweepExpiredFinishedUploads } from './finished';
import { UploadFollowers } from './follow';
import { findTusUpload, OWNER_METADATA_KEY, removeTusUpload, sweepExpiredTusUploads, watchedTusStore } from './store';

export const TUS_PATH = '/uploads';
const SWEEP_INTERVAL_MS = 5 * 60_000;

/** A refusal @tus/server sends as the answer (status and plain-text body). */
const refuse = (status_code: number, body: string) => ({ status_code, body: `${body}\n` });

/**
 * The headers of vidq's own refusals (401, 404, 429), as @tus/server's answers carry them: a browser app
 * on another origin (tus-js-client, Uppy) can then read the status and the text, not a network error.
 */
const REFUSAL_HEADERS = {
  'content-type': 'text/plain; charset=utf-8',
  'tus-resumable': '1.0.0',
  'access-control-allow-origin': '*', // @tus/server's default: the key travels in a header, never a cookie
  'access-control-expose-headers': 'retry-after',
};

/** How often, at most, a PATCH in progress tells the bucket's follower (follow.ts) how far it is. */
const PROGRESS_INTERVAL_MS = 200;

export function createTusEndpoint(services: Services, limits: Pick<Limits, 'authFailures'> | null = null): { route: HttpRoute; close(): Promise<void> } {
  const { config, database } = services;
  const log = services.log.child({ component: 'tus' });
  /** The upload each request moved into the bucket, whose local copy goes after the answer. */
  const movedBy = new WeakMap<object, string>();
  const followers = new UploadFollowers({ config, storage: services.storage, log });

  async function finish(id: string) {
    const finished = await findTusUpload(config, id);
    const info = currentRequest();
    const deps = { config, db: database.db, storage: services.storage, log };
    // The follower goes to the call that moves the upload (another end of it may be the one).
    if (finished && info && (await moveFinishedUpload(deps, finished, () => followers.take(id)))) movedBy.set(info, id);
    else await followers.drop(id); // moved by another process, or kept here: a follower left has nothing to send
  }

  const tus = new Server({
    path: TUS_PATH,
    datastore: watchedTusStore(config, followers),
    maxSize: config.maxFileSizeBytes,
    postReceiveInterval: PROGRESS_INTERVAL_MS,
    namingFunction: () => newId('upl'),
    generateUrl: (_req, { proto, host, path, id }) => `${config.publicUrl ?? `${proto}://${host}`}${path}/${id}`,
    async onUploadCreate(_req, upload) {
      const filename = upload.metadata?.filename;
      if (!filename) throw refuse(400, 'Upload-Metadata must carry a filename, e.g. tus-js-client’s metadata: { filename: "clip.mp4" }.');
      const ext = extensionOf(sanitizeFilename(filename));
      if (!isSupportedFormat(ext)) throw refuse(415, extensionDetail(ext));
      const ownerId = currentRequest()?.userId;
      if (!ownerId) throw refuse(401, 'An API key is required.');
      return { metadata: { ...upload.metadata, [OWNER_METADATA_KEY]: ownerId } };
    },
    // s3: the last byte is in, so its bytes go into the bucket (most of them went while they arrived),
    // where any API process finds them. The local copy goes once tus has answered (it reads the upload
    // again for its answer).
    // An end sent twice (an empty PATCH at the length while the first move runs, here or on another
    // process sharing DATA_DIR/tus) is moved once: moveFinishedUpload records the move before it starts.
    async onUploadFinish(_req, upload) {
      await finish(upload.id);
      return {};
    },
    // @tus/server's own size refusals say no limit and no next step: these do. Refusals at creation
    // count in vidq_uploads_total like uploadVideo's.
    onResponseError(_req, error) {
      const status = 'status_code' in error ? error.status_code : null;
      if (status === 413 || status === 415) metrics.uploads.inc({ result: status === 413 ? 'FILE_TOO_LARGE' : 'UNSUPPORTED_FORMAT' });
      if (error === ERRORS.ERR_MAX_SIZE_EXCEEDED) {
        return refuse(
          413,
          `Upload-Length is over MAX_FILE_SIZE_MB: this server accepts files of up to ${config.maxFileSizeMb} MB (${config.maxFileSizeBytes} bytes).`,
        );
      }
      if (error === ERRORS.ERR_SIZE_EXCEEDED) {
        return refuse(413, 'This PATCH would pass the Upload-Length given at creation: send only the bytes declared (HEAD tells the offset to resume from).');
      }
      return undefined;
    },
  });

  tus.on(EVENTS.POST_RECEIVE, (_req, upload) => void followers.progress(upload.id));
  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => void followers.drop(id));

  const sweep = setInterval(() => {
    Promise.all([sweepExpiredTusUploads(config), sweepExpiredFinishedUploads({ config, db: database.db, storage: services.storage, log })])
      .then((removed) => removed.flat().length && log.info({ count: removed.flat().length }, 'removed expired resumable uploads'))
      .catch((err) => log.warn({ err }, 'sweeping expired resumable uploads failed; next round retries'));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname !== TUS_PATH && !url.pathname.startsWith(`${TUS_PATH}/`)) return false;
    // OPTIONS (discovery, CORS preflight) carries no key.
    if (req.method !== 'OPTIONS') {
      let viewerId: string;
      try {
        viewerId = (await authenticate(database.db, req.headers.authorization)).id;
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        // A wrong key counts against the address, as on /graphql: past AUTH_MAX_FAILURES, 429.
        const address = req.socket.remoteAddress;
        const retryAfter = limits && address && error.failure === 'INVALID_API_KEY' ? await limits.authFailures.failed(address) : null;
        if (retryAfter !== null) {
          res.writeHead(429, { ...REFUSAL_HEADERS, 'retry-after': String(retryAfter) });
          res.end(`Too many failed authentications from this address: retry after ${retryAfter} seconds.\n`);
          return true;
        }
        res.writeHead(401, REFUSAL_HEADERS);
        const next =
          error.failure === 'UNAUTHENTICATED'
            ? 'Send Authorization: Bearer vq_… with every tus request.'
            : 'Check the key sent in Authorization, or create one with `npx vidq keys create --user USER_ID`.';
        res.end(`${error.message} ${next}\n`);
        return true;
      }
      const info = currentRequest();
      if (info) info.userId = viewerId;
      const id = url.pathname.slice(TUS_PATH.length + 1);
      if (id) {
        const upload = await findTusUpload(config, id);
        if (!upload || upload.ownerId !== viewerId) {
          res.writeHead(404, REFUSAL_HEADERS);
          res.end('No such upload.\n');
          return true;
        }
      }
    }
    await tus.handle(req, res);
    const info = currentRequest();
    const moved = info && movedBy.get(info);
    if (moved) await removeTusUpload(config, moved);
    return true;
  }

  return {
    route,
    async close() {
      clearInterval(sweep);
      await followers.close();
    },
  };
}
