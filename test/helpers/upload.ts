// Uploading the way clients do (GraphQL multipart request spec over real HTTP), and looking at what
// an upload left behind: files under DATA_DIR/uploads (incl. .tmp), buffer files in os.tmpdir(), rows
// in videos.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestApp } from './app';
import type { GraphQLResponse } from './graphql';

export const VIDEO_FIELDS = `
  id filename title format sizeBytes contentType sha256 recordedAt createdAt
  owner { id name }
  metadata { durationSeconds width height videoCodec audioCodec frameRate bitRate }
`;

export const ERROR_FIELDS = `
  ... on Error { message code detail retryable }
  ... on InvalidInputError { fieldErrors { path message } }
  ... on FileTooLargeError { maxBytes }
  ... on UnsupportedFormatError { supportedFormats }
`;

export const UPLOAD_MUTATION = `
  mutation Upload($input: UploadVideoInput!) {
    uploadVideo(input: $input) {
      __typename
      ... on UploadVideoSuccess { video { ${VIDEO_FIELDS} } }
      ${ERROR_FIELDS}
    }
  }
`;

export interface UploadOptions {
  /** A path to read, or the bytes themselves. */
  file?: string | Buffer;
  /** The name the client sends; defaults to the path's basename. */
  filename?: string;
  /** Other UploadVideoInput fields. */
  input?: Record<string, unknown>;
  /** Extra files mapped to undeclared variables (the spec allows it; one file per upload is the rule). */
  extraFiles?: number;
  /** Map the file but leave its part out of the body. */
  omitFilePart?: boolean;
}

/** The operations and map fields of an upload, as a multipart client sends them. */
export function uploadOperations(opts: Pick<UploadOptions, 'input' | 'extraFiles'> = {}) {
  const variables: Record<string, unknown> = { input: { file: null, ...opts.input } };
  const map: Record<string, string[]> = { 0: ['variables.input.file'] };
  for (let i = 1; i <= (opts.extraFiles ?? 0); i++) {
    variables[`extra${i}`] = null;
    map[String(i)] = [`variables.extra${i}`];
  }
  return { operations: { query: UPLOAD_MUTATION, variables }, map };
}

/** POSTs a multipart uploadVideo with fetch and returns the parsed answer. */
export async function upload(app: Pick<TestApp, 'url'>, key: string | null, opts: UploadOptions): Promise<GraphQLResponse> {
  const { operations, map } = uploadOperations(opts);
  const bytes = typeof opts.file === 'string' ? await readFile(opts.file) : (opts.file ?? Buffer.alloc(0));
  const filename = opts.filename ?? (typeof opts.file === 'string' ? path.basename(opts.file) : 'upload.mp4');
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  form.append('map', JSON.stringify(map));
  if (!opts.omitFilePart) form.append('0', new Blob([new Uint8Array(bytes)], { type: 'video/mp4' }), filename);
  for (let i = 1; i <= (opts.extraFiles ?? 0); i++) form.append(String(i), new Blob([new Uint8Array(bytes)]), `extra-${i}-${filename}`);
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers, body: form });
  const text = await res.text();
  let body: GraphQLResponse['body'];
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON answer (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

/** The uploadVideo result of an upload() answer, failing loudly on request-level errors. */
export function result(res: GraphQLResponse): any {
  if (!res.body.data?.uploadVideo) throw new Error(`no uploadVideo result (${res.status}): ${JSON.stringify(res.body)}`);
  return res.body.data.uploadVideo;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const rel = path.posix.join(prefix, e.name);
    if (e.isDirectory()) out.push(`${rel}/`, ...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Every file and directory under DATA_DIR/uploads, the temp directory included. */
export function storedFiles(app: Pick<TestApp, 'dataDir'>): Promise<string[]> {
  return listFiles(path.join(app.dataDir, 'uploads'));
}

/** Files under DATA_DIR/uploads other than directories (what an upload actually wrote). */
export async function storedFileNames(app: Pick<TestApp, 'dataDir'>): Promise<string[]> {
  return (await storedFiles(app)).filter((f) => !f.endsWith('/'));
}

/**
 * What an upload left in os.tmpdir() (graphql-upload-ts's processRequest would buffer files there as
 * capacitor-<hex>.tmp; vidq streams without it): everything but the test's own media and data dirs.
 */
export async function strayTmpFiles(): Promise<string[]> {
  const entries = await readdir(os.tmpdir()).catch(() => [] as string[]);
  return entries.filter((f) => !f.startsWith('media-') && !f.startsWith('vidq-test-data-')).sort();
}

export async function videoCount(app: Pick<TestApp, 'services'>): Promise<number> {
  const [row] = await app.services.database.sql`select count(*)::int as n from videos`;
  return row.n;
}

/**
 * Points os.tmpdir() of this test process (the in-process server's too) at a directory of this test
 * file's own, so that what lands there can be asserted exactly.
 */
export async function useOwnTmpdir(): Promise<{ dir: string; restore(): Promise<void> }> {
  const previous = process.env.TMPDIR;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidq-upload-tmp-'));
  process.env.TMPDIR = dir;
  return {
    dir,
    async restore() {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What the store looks like: to compare before and after a failed upload. */
export async function snapshot(app: Pick<TestApp, 'dataDir' | 'services'>) {
  return { files: await storedFileNames(app), tmp: await strayTmpFiles(), videos: await videoCount(app) };
}

/** A multipart body for raw http.request tests: the parts before the file's bytes, and after. */
export function multipartFrame(boundary: string, opts: Pick<UploadOptions, 'input'> & { filename: string }) {
  const { operations, map } = uploadOperations(opts);
  const field = (name: string, value: string) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const before = Buffer.from(
    field('operations', JSON.stringify(operations)) +
      field('map', JSON.stringify(map)) +
      `--${boundary}\r\ncontent-disposition: form-data; name="0"; filename="${opts.filename}"\r\ncontent-type: video/mp4\r\n\r\n`,
  );
  const after = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { before, after };
}
