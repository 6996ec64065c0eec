// Key revocations, live: revoking a key (or disabling its user) NOTIFYs API_KEYS_CHANNEL with the key's
// id, and everything opened with that key on this process is ended: its WebSockets and its event streams.
import type { LiveFeedDefinition } from '../live/hub';
import type { Revocable } from '../live/types';
import { API_KEYS_CHANNEL } from './keys';

export interface KeyRevocationFeed {
  /** Calls `target.revoked()` once if the key is revoked while registered. */
  watch(keyId: string, target: Revocable): void;
  unwatch(keyId: string, target: Revocable): void;
}

export const keyRevocationFeed: LiveFeedDefinition<KeyRevocationFeed> = {
  channels: [API_KEYS_CHANNEL],
  start(host) {
    const targets = new Map<string, Set<Revocable>>();
    host.on(API_KEYS_CHANNEL, (keyId) => {
      const revoked = targets.get(keyId);
      if (!revoked) return;
      targets.delete(keyId);
      for (const target of revoked) target.revoked();
    });
    return {
      watch(keyId, target) {
        let set = targets.get(keyId);
        if (!set) targets.set(keyId, (set = new Set()));
        set.add(target);
      },
      unwatch(keyId, target) {
        const set = targets.get(keyId);
        set?.delete(target);
        if (set && !set.size) targets.delete(keyId);
      },
    };
  },
};
