// The API process's live hub and the feeds its subscriptions follow: each domain registers its own.
import { alertFeed } from '../alerts/live';
import { keyRevocationFeed } from '../auth/revocation-feed';
import type { LiveFeeds } from '../graphql/context';
import { jobEventFeed } from '../jobs/live-feed';
import { type LiveHub, startLiveHub } from '../live/hub';
import type { Services } from '../services';

export type RunningLiveFeeds = LiveFeeds & { hub: LiveHub };

export function startLiveFeeds(services: Services): Promise<RunningLiveFeeds> {
  return startLiveHub(services.database.url, services.log, { jobEvents: jobEventFeed, alerts: alertFeed, keyRevocations: keyRevocationFeed });
}
