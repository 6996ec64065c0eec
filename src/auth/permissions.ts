// Who may act on whose resources. Another user's resource answers exactly as an unknown one does.
import type { Viewer } from './viewer';
import { ForbiddenError } from '../errors/app-errors';

/** The owner a request acts for: the viewer, or (admins only) the named user. */
export function actingOwnerId(viewer: Viewer, ownerId: string | null | undefined): string {
  if (!ownerId || ownerId === viewer.id) return viewer.id;
  if (!viewer.isAdmin) {
    throw new ForbiddenError(`Only an admin may act on behalf of another user; you asked for '${ownerId}'.`);
  }
  return ownerId;
}

/** Whether the viewer may see a resource owned by ownerId. */
export function canSee(viewer: Viewer, ownerId: string): boolean {
  return viewer.isAdmin || viewer.id === ownerId;
}

export function requireAdmin(viewer: Viewer, action: string): void {
  if (!viewer.isAdmin) throw new ForbiddenError(`Only an admin may ${action}.`);
}
