// What other domains plug into the HTTP server. Types only, so that a domain can provide a route
// without importing the server.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A plain HTTP route outside GraphQL (file downloads, GraphiQL's files). Returns false when it does not match. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** Parses a multipart GraphQL request (the uploads domain provides it). */
export type MultipartParser = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;
