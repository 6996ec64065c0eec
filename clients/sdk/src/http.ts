// GraphQL over HTTP: one POST per operation, typed by the generated documents.
import { ERROR_MESSAGES, parseRetryAfter, unreachableError, VidqError } from './errors.js';
import type { ErrorCode, TypedDocumentString } from './generated/graphql.js';

export interface Connection {
  /** The server's base URL, e.g. http://localhost:4000 */
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
}

/** Whether the client has a key to send at all (a missing key is UNAUTHENTICATED, a wrong one INVALID_API_KEY). */
export const hasApiKey = (conn: Connection): boolean => typeof conn.apiKey === 'string' && conn.apiKey.trim() !== '';

/** The Authorization header, or none without a key (never "Bearer undefined"). */
export const authHeaders = (conn: Connection): Record<string, string> => (hasApiKey(conn) ? { authorization: `Bearer ${conn.apiKey.trim()}` } : {});

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; detail?: string; retryable?: boolean; retryAfterSeconds?: number } }>;
}

export async function request<TResult, TVariables>(
  conn: Connection,
  document: TypedDocumentString<TResult, TVariables> | string,
  variables: TVariables,
): Promise<TResult> {
  const url = new URL('/graphql', conn.baseUrl);
  let response: Response;
  try {
    response = await conn.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authHeaders(conn) },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch (error) {
    // Nothing answered (refused, unknown host, timeout): say where the SDK looked and what to check.
    throw unreachableError(conn.baseUrl, url.href, error);
  }
  const body = (await response.json().catch(() => null)) as GraphQLResponse<TResult> | null;
  const retryAfterHeader = parseRetryAfter(response.headers.get('retry-after'));
  const first = body?.errors?.[0];
  if (first) {
    // Request-level errors (a bad key, a limit, a malformed query) carry their code in extensions.
    const code = (first.extensions?.code as ErrorCode | undefined) ?? 'INTERNAL_ERROR';
    const retryAfterSeconds = first.extensions?.retryAfterSeconds ?? (code === 'RATE_LIMITED' ? retryAfterHeader : undefined);
    // Shaped like an error member: the catalogue's message, the server's specifics in detail.
    const generic = ERROR_MESSAGES[code]?.message;
    const extra = first.extensions?.detail;
    const specific = !generic || first.message === generic ? extra : extra ? `${first.message} (${extra})` : first.message;
    throw new VidqError({
      code,
      message: generic ?? first.message,
      detail: specific,
      retryable: first.extensions?.retryable ?? ERROR_MESSAGES[code]?.retryable ?? response.status >= 500,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (!response.ok || !body?.data) {
    const limited = response.status === 429;
    throw new VidqError({
      code: limited ? 'RATE_LIMITED' : 'SERVICE_UNAVAILABLE',
      message: `vidq answered HTTP ${response.status}`,
      retryable: limited || response.status >= 500,
      ...(limited && retryAfterHeader !== undefined ? { retryAfterSeconds: retryAfterHeader } : {}),
    });
  }
  return body.data;
}
