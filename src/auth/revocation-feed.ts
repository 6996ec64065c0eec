// Key revocations, live: revoking a key (or disabling its user) NOTIFYs API_KEYS_CHANNEL with the key's
// id, and everything opened with that key on this process is ended: its WebSockets and its event streams.
// A NOTIFY sent while the LISTEN connection was down is lost: after every reconnect the keys watched
// here are checked again in the table, so a revocation in that gap still ends what it must.
import type { LiveFeedDefinition } from '../live/hub';
import type { Revocable } from '../live/types';
import { activeKeyIds, API_KEYS_CHANNEL } from './keys';

export interface KeyRevocationFeed {
  /** Calls `target.revoked()` once if the key is revoked while registered. */
  watch(keyId: string, target: Revocable): void;
  unwatch(keyId: string, target: Revocable): void;
}

export const keyRevocationFeed: LiveFeedDefinition<KeyRevocationFeed> = {
  channels: [API_KEYS_CHANNEL],
  start(host) {
    const targets = new Map<string, Set<Revocable>>();
    const revoke = (keyId: string) => {
      const revoked = targets.get(keyId);
      if (!revoked) return;
      targets.delete(keyId);
      for (const target of revoked) target.revoked();
    };
    host.on(API_KEYS_CHANNEL, revoke);
    host.onResync(async () => {
      const keyIds = [...targets.keys()];
      if (!keyIds.length) return;
      try {
        const active = await activeKeyIds(host.db, keyIds);
        for (const keyId of keyIds) if (!active.has(keyId)) revoke(keyId);
      } catch (err) {
        host.log.warn({ err }, 'checking watched keys after a reconnect failed');
      }
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
