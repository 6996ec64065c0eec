import type { UserRow } from '../db/schema/index';

/** Who a request acts for: the owner of the API key it carries. */
export interface Viewer {
  id: string;
  name: string;
  isAdmin: boolean;
  keyId: string;
  /** The user's row as read while authenticating this request (absent when a Viewer is built by hand). */
  user?: UserRow;
}
