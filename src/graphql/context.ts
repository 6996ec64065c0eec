import type { JobEventBus } from '../jobs/pubsub';
import type { Logger } from '../logger';
import type { Services } from '../services';

export interface Viewer {
  id: string;
  name: string;
  isAdmin: boolean;
  keyId: string;
}

export interface GraphQLContext {
  requestId: string;
  /** Base URL clients reach this server at (PUBLIC_URL, else the request's host), for links. */
  origin: string;
  viewer: Viewer;
  services: Services;
  /** Live job events (API processes only). */
  jobEvents: JobEventBus | null;
  log: Logger;
}
