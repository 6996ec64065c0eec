// Key revocations, live: revoking a key (or disabling its user) NOTIFYs API_KEYS_CHANNEL with the key's
// id, and everything opened with that key on this process is ended: its WebSockets and its event streams.
// A NOTIFY sent while the LISTEN connection was down is lost: after every reconnect the keys watched
// here are checked again in the table, so a revocation in that gap still ends what it must.
// A NOTIFY heard while the key was not watched yet is lost too: a socket or a stream is watched only
// after its key was authenticated and its slot taken, and a revocation may come in between. So every
// key is read once more in the table after it was watched (reads batched: one query at a time for the
// keys watched meanwhile): whatever the NOTIFY missed, that read sees.
import type { LiveFeedDefinition } from '../live/hub';
import type { Revocable } from '../live/types';
import { activeKeyIds, API_KEYS_CHANNEL } from './keys';

export interface KeyRevocationFeed {
  /**
   * Calls `target.revoked()` once if the key is revoked while registered, or was revoked already (a
   * revocation since the caller authenticated the key: the key is checked in the table once watched).
   */
  watch(keyId: string, target: Revocable): void;
  unwatch(keyId: string, target: Revocable): void;
}

/** After a failed check of newly watched keys, how long until it is tried again. */
const CHECK_RETRY_MS = 1000;

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

    // Targets watched since the last check, per key; a check running (or waiting to run).
    let unchecked = new Map<string, Set<Revocable>>();
    let checking = false;
    let retry: NodeJS.Timeout | null = null;
    let closed = false;

    /** Ends those of `which` still watched (a check only ends what was watched before it read). */
    const revokeTargets = (keyId: string, which: Set<Revocable>) => {
      const set = targets.get(keyId);
      if (!set) return;
      const ended = [...which].filter((target) => set.delete(target));
      if (!set.size) targets.delete(keyId);
      for (const target of ended) target.revoked();
    };

    const check = async () => {
      while (unchecked.size && !closed) {
        const batch = unchecked;
        unchecked = new Map();
        try {
          const active = await activeKeyIds(host.db, [...batch.keys()]);
          for (const [keyId, which] of batch) if (!active.has(keyId)) revokeTargets(keyId, which);
        } catch (err) {
          if (closed) return;
          host.log.warn({ err }, 'checking newly watched keys failed; retrying');
          for (const [keyId, which] of batch) for (const target of which) note(keyId, target, false);
          retry = setTimeout(() => {
            retry = null;
            schedule();
          }, CHECK_RETRY_MS);
          retry.unref();
          return;
        }
      }
    };
    const schedule = () => {
      if (checking || retry || closed) return;
      checking = true;
      // After the current turn of the event loop: the keys watched in one burst go in one query.
      setImmediate(() =>
        check()
          .catch((err) => host.log.warn({ err }, 'checking newly watched keys failed'))
          .finally(() => {
            checking = false;
            if (unchecked.size && !retry) schedule();
          }),
      );
    };
    /** Queues a check of `target`'s key, if it is still watched. */
    const note = (keyId: string, target: Revocable, start = true) => {
      if (!targets.get(keyId)?.has(target)) return;
      let which = unchecked.get(keyId);
      if (!which) unchecked.set(keyId, (which = new Set()));
      which.add(target);
      if (start) schedule();
    };

    return {
      watch(keyId, target) {
        let set = targets.get(keyId);
        if (!set) targets.set(keyId, (set = new Set()));
        set.add(target);
        note(keyId, target);
      },
      unwatch(keyId, target) {
        const set = targets.get(keyId);
        set?.delete(target);
        if (set && !set.size) targets.delete(keyId);
        const which = unchecked.get(keyId);
        which?.delete(target);
        if (which && !which.size) unchecked.delete(keyId);
      },
      close() {
        closed = true;
        if (retry) clearTimeout(retry);
        retry = null;
      },
    };
  },
};
