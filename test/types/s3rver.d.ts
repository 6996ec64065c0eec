// s3rver ships no types: the part the tests use.
declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    configureBuckets?: Array<{ name: string; configs: Array<string | Buffer> }>;
    /** With both, s3rver serves https. */
    key?: Buffer;
    cert?: Buffer;
  }
  /** The part of Koa's context the tests' middleware reads and writes. */
  interface KoaContext {
    method: string;
    url: string;
    /** The URL's path, still percent-encoded. */
    path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    type: string;
    body: unknown;
    /** A request header, or '' when absent. */
    get(header: string): string;
    /** Sets a response header. */
    set(header: string, value: string): void;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Koa's middleware list (S3rver extends Koa); composed when run() starts listening. */
    middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>>;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
