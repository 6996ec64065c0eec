// Failures that are not bugs of ours nor the request's fault, but a dependency that did not answer (the
// bucket, PostgreSQL) or this machine itself (a full disk, a check the system killed or starved).
// Clients are told SERVICE_UNAVAILABLE (503, retryable) instead of a masked INTERNAL_ERROR, so they
// retry instead of reporting it; the log says what it was.
import { isDatabaseUnavailable, someCause } from '../db/errors';
import { ERROR_CATALOG } from '../errors/catalog';
import { StorageUnavailableError } from '../storage/types';

/**
 * This server could not do its part for a reason of its own machine, not of the request: its message is
 * the sentence clients are told (e.g. "This server could not check the video"), the cause is logged.
 */
export class MachineFailureError extends Error {
  override readonly name = 'MachineFailureError';
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** What did not answer or failed, as the start of a sentence ("Storage did not answer"); null for any other error. */
export function unavailableCause(error: unknown): string | null {
  if (error instanceof StorageUnavailableError) return 'Storage did not answer';
  if (isDatabaseUnavailable(error)) return 'The database did not answer';
  if (error instanceof MachineFailureError) return error.message;
  if (someCause(error, (e) => typeof e.code === 'string' && DISK_FULL.has(e.code))) return 'This server’s disk is full';
  return null;
}

/** The message a client gets for it. */
export function unavailableMessage(cause: string, requestId: string | undefined): string {
  return `${ERROR_CATALOG.SERVICE_UNAVAILABLE.message} ${cause}; retry shortly (request id ${requestId ?? 'unknown'}).`;
}
