// Turns the bearer token of a request (HTTP header or WebSocket connectionParams) into a Viewer.
import { GraphQLError } from 'graphql';
import type { Db } from '../db/client';
import type { Viewer } from './viewer';
import { ERROR_CATALOG } from '../errors/catalog';
import { findActiveKey, touchKey } from './keys';

export type AuthFailure = 'UNAUTHENTICATED' | 'INVALID_API_KEY';

export class AuthenticationError extends GraphQLError {
  constructor(readonly failure: AuthFailure) {
    super(ERROR_CATALOG[failure].message, {
      extensions: { code: failure, detail: ERROR_CATALOG[failure].description, http: { status: 401 } },
    });
  }
}

/** Accepts "Bearer vq_…" (any case of "Bearer") or the bare key; "Bearer" with nothing after is no key. */
export function parseBearer(header: unknown): string | null {
  if (typeof header !== 'string' || !header.trim() || /^\s*Bearer\s*$/i.test(header)) return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : header.trim();
}

export async function authenticate(db: Db, authorization: unknown): Promise<Viewer> {
  const key = parseBearer(authorization);
  if (!key) throw new AuthenticationError('UNAUTHENTICATED');
  const owner = key.startsWith('vq_') ? await findActiveKey(db, key) : null;
  if (!owner) throw new AuthenticationError('INVALID_API_KEY');
  void touchKey(db, owner).catch(() => {}); // bookkeeping only: never fail a request on it
  return { id: owner.userId, name: owner.name, isAdmin: owner.isAdmin, keyId: owner.keyId, user: owner.user };
}
