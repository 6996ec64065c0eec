// GraphQL over HTTP: one POST per operation, typed by the generated documents.
import { unreachableError, VidqError } from './errors.js';
import type { ErrorCode, TypedDocumentString } from './generated/graphql.js';

export interface Connection {
  /** The server's base URL, e.g. http://localhost:4000 */
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; detail?: string; retryable?: boolean } }>;
}

export async function request<TResult, TVariables>(
  conn: Connection,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const url = new URL('/graphql', conn.baseUrl);
  let response: Response;
  try {
    response = await conn.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${conn.apiKey}` },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch (error) {
    // Nothing answered (refused, unknown host, timeout): say where the SDK looked and what to check.
    throw unreachableError(conn.baseUrl, url.href, error);
  }
  const body = (await response.json().catch(() => null)) as GraphQLResponse<TResult> | null;
  const first = body?.errors?.[0];
  if (first) {
    // Request-level errors (a bad key, a limit, a malformed query) carry their code in extensions.
    throw new VidqError({
      code: (first.extensions?.code as ErrorCode | undefined) ?? 'INTERNAL_ERROR',
      message: first.message,
      detail: first.extensions?.detail,
      retryable: first.extensions?.retryable ?? response.status >= 500,
    });
  }
  if (!response.ok || !body?.data) {
    throw new VidqError({ code: 'SERVICE_UNAVAILABLE', message: `vidq answered HTTP ${response.status}`, retryable: response.status >= 500 });
  }
  return body.data;
}
