// The vidq client: one object per server and API key.
import type { Client as SocketClient } from 'graphql-ws';
import { unwrap } from './errors.js';
import type { JobFieldsFragment, JobOutputQuery, SubmitJobInput, TypedDocumentString, VideoFieldsFragment } from './generated/graphql.js';
import { type Connection, request } from './http.js';
import { createSocket, type FollowOptions, followJob, type JobEvent } from './follow.js';
import { CancelJobDocument, JobDocument, JobOutputDocument, RetryJobDocument, SubmitJobDocument, VideoDocument } from './operations.js';
import { type UploadOptions, type UploadSource, uploadVideo } from './upload.js';

export interface VidqClientOptions {
  /** The server's base URL, e.g. http://localhost:4000 (GraphQL at /graphql, tus at /uploads). */
  url: string;
  /** An API key, vq_… */
  apiKey: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

export type Job = JobFieldsFragment;
export type Video = VideoFieldsFragment;
export type JobOutput = Extract<JobOutputQuery['jobOutput'], { __typename: 'JobOutput' }>;

export class VidqClient {
  private readonly conn: Connection;
  private socket: SocketClient | null = null;

  constructor(options: VidqClientOptions) {
    if (!/^https?:\/\//.test(options.url)) throw new TypeError(`url must start with http:// or https:// (got "${options.url}")`);
    this.conn = { baseUrl: options.url, apiKey: options.apiKey, fetch: options.fetch ?? globalThis.fetch.bind(globalThis) };
  }

  /** Uploads a video (resumable, with progress) and returns it once vidq has checked it. */
  upload(source: UploadSource, options?: UploadOptions): Promise<Video> {
    return uploadVideo(this.conn, source, options);
  }

  /** A video by id (VIDEO_NOT_FOUND for an unknown one or another user's). */
  async video(id: string): Promise<Video> {
    const data = await request(this.conn, VideoDocument, { id });
    return unwrap(data.video, 'Video');
  }

  async submitJob(input: SubmitJobInput): Promise<Job> {
    const data = await request(this.conn, SubmitJobDocument, { input });
    return unwrap(data.submitJob, 'SubmitJobSuccess').job;
  }

  /** A job by id (JOB_NOT_FOUND for an unknown one or another user's). */
  async job(id: string): Promise<Job> {
    const data = await request(this.conn, JobDocument, { id });
    return unwrap(data.job, 'Job');
  }

  /** Stops a QUEUED or PROCESSING job (cancelling twice is harmless) and returns it, CANCELLED. */
  async cancelJob(id: string): Promise<Job> {
    const data = await request(this.conn, CancelJobDocument, { id });
    return unwrap(data.cancelJob, 'CancelJobSuccess').job;
  }

  /**
   * Runs a FAILED, TIMED_OUT or CANCELLED job again, keeping its finished stages; returns it, QUEUED.
   * `timeoutSeconds`: a new time limit from this run on (a TIMED_OUT job needs a longer one).
   */
  async retryJob(id: string, options: { timeoutSeconds?: number } = {}): Promise<Job> {
    const data = await request(this.conn, RetryJobDocument, { id, timeoutSeconds: options.timeoutSeconds });
    return unwrap(data.retryJob, 'RetryJobSuccess').job;
  }

  /** The job's events, stored then live, until its terminal event; survives reconnects without gaps. */
  follow(jobId: string, options?: FollowOptions): AsyncGenerator<JobEvent, void, undefined> {
    this.socket ??= createSocket(this.conn);
    return followJob(this.conn, this.socket, jobId, options);
  }

  /** Follows the job to its end and returns it (COMPLETED, FAILED, TIMED_OUT or CANCELLED). */
  async waitForJob(jobId: string, options?: FollowOptions & { onEvent?: (event: JobEvent) => void }): Promise<Job> {
    for await (const event of this.follow(jobId, options)) options?.onEvent?.(event);
    return this.job(jobId);
  }

  /** A completed job's files (with download URLs) and typed stage results. */
  async output(jobId: string): Promise<JobOutput> {
    const data = await request(this.conn, JobOutputDocument, { jobId });
    return unwrap(data.jobOutput, 'JobOutput');
  }

  /**
   * Any other operation: typed by a document generated from your own queries (see clients/codegen.ts),
   * or a plain GraphQL string (then the result is typed by `TResult`, `any` unless given). Request-level
   * errors throw VidqError; error union members come back in the data, as the server answered them.
   */
  request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult>;
  request<TResult = any>(document: string, variables?: Record<string, unknown>): Promise<TResult>;
  request(document: TypedDocumentString<unknown, unknown> | string, variables?: unknown): Promise<unknown> {
    return request(this.conn, document, variables ?? {});
  }

  /** Closes the WebSocket, if one is open. */
  async close(): Promise<void> {
    await this.socket?.dispose();
    this.socket = null;
  }
}

export function createVidqClient(options: VidqClientOptions): VidqClient {
  return new VidqClient(options);
}
