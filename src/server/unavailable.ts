// Failures that are not bugs of ours but a dependency that did not answer: the bucket, or PostgreSQL.
// Clients are told SERVICE_UNAVAILABLE (503, retryable) instead of a masked INTERNAL_ERROR, so they
// retry instead of reporting it; the log says which dependency it was.
import { isDatabaseUnavailable } from '../db/errors';
import { ERROR_CATALOG } from '../errors/catalog';
import { StorageUnavailableError } from '../storage/types';

/** Which dependency `error` says did not answer, as the start of a sentence; null for any other error. */
export function unavailableDependency(error: unknown): 'Storage' | 'The database' | null {
  if (error instanceof StorageUnavailableError) return 'Storage';
  if (isDatabaseUnavailable(error)) return 'The database';
  return null;
}

/** The message a client gets for it. */
export function unavailableMessage(dependency: string, requestId: string | undefined): string {
  return `${ERROR_CATALOG.SERVICE_UNAVAILABLE.message} ${dependency} did not answer; retry shortly (request id ${requestId ?? 'unknown'}).`;
}
