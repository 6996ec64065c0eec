// Per-request facts that must reach code far from the HTTP handler (error masking, access logs)
// without threading them through every call.
import { AsyncLocalStorage } from 'node:async_hooks';
import { newId } from '../db/ids';

export interface RequestInfo {
  requestId: string;
  userId?: string;
  operationName?: string;
}

export const requestStore = new AsyncLocalStorage<RequestInfo>();

export function currentRequest(): RequestInfo | undefined {
  return requestStore.getStore();
}

/** A client-supplied x-request-id is kept when it looks harmless, so logs correlate across systems. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._:-]{1,100}$/.test(value) ? value : newId('req');
}
