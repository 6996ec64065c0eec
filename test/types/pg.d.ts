// pg (the driver pg-boss runs on) ships no types: the part the tests use.
declare module 'pg' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';
  class Client extends EventEmitter {
    constructor(config: { connectionString: string; application_name?: string });
    connect(): Promise<void>;
    query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
    end(): Promise<void>;
    connection: { stream: Socket };
  }
  const pg: { Client: typeof Client };
  export default pg;
}
