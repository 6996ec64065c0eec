import type { users } from '../db/schema/index';
import type { JobEventBus } from '../jobs/pubsub';
import type { Logger } from '../logger';
import type { Services } from '../services';

export interface Viewer {
  id: string;
  name: string;
  isAdmin: boolean;
  keyId: string;
  /** The user's row as read while authenticating this request (absent when a Viewer is built by hand). */
  user?: typeof users.$inferSelect;
}

export interface GraphQLContext {
  requestId: string;
  /** Base URL clients reach this server at (PUBLIC_URL, else the request's host), for links. */
  origin: string;
  viewer: Viewer;
  services: Services;
  /** Live job events (API processes only). */
  jobEvents: JobEventBus | null;
  /** This request's logger (request and user ids bound), made on first call. */
  log(): Logger;
}
