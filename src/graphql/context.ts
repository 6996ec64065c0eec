import type { AlertFeed } from '../alerts/live';
import type { KeyRevocationFeed } from '../auth/revocation-feed';
import type { Viewer } from '../auth/viewer';
import type { JobEventFeed } from '../jobs/live-feed';
import type { Logger } from '../logger';
import type { Services } from '../services';

/** The live hub's feeds that subscriptions follow (API processes only; see server/live-feeds.ts). */
export interface LiveFeeds {
  jobEvents: JobEventFeed;
  alerts: AlertFeed;
  keyRevocations: KeyRevocationFeed;
}

export interface GraphQLContext {
  requestId: string;
  /** Base URL clients reach this server at (PUBLIC_URL, else the request's host), for links. */
  origin: string;
  viewer: Viewer;
  services: Services;
  /** Live feeds (API processes only). */
  live: LiveFeeds | null;
  /** This request's logger (request and user ids bound), made on first call. */
  log(): Logger;
}
