// An operation over graphql-armor's limits (aliases, depth, tokens) is refused alone: over HTTP a 400,
// over a WebSocket an `error` message for that operation id only. The socket, and the live
// subscription it carries, go on (they used to be closed with 4500 "Internal server error").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { waitFor } from '../helpers/jobs';
import { JOB_UPDATED, openSocket, type RawSocket } from '../events/helpers';
import { aliasedQuery, costlyQuery, deepQuery, longQuery, seedRunningJob } from './helpers';

let app: TestApp;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  app = await startTestApp({ env: { ROLE: 'api' } });
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await app?.close();
});

const VALIDATION_LIMITS: Array<[string, string, string]> = [
  ['31 aliases', aliasedQuery(31), 'GRAPHQL_VALIDATION_FAILED'],
  ['depth 20', deepQuery(20), 'GRAPHQL_VALIDATION_FAILED'],
  ['cost over 20,000', costlyQuery(), 'GRAPHQL_VALIDATION_FAILED'],
];
// The token limit stops the parser: over HTTP that is Yoga's parse failure (200 with
// GRAPHQL_PARSE_FAILED under application/json, as before), over a socket the same error message.
const OVER_LIMIT: Array<[string, string, string]> = [...VALIDATION_LIMITS, ['6,000 tokens', longQuery(6_000), 'GRAPHQL_PARSE_FAILED']];

describe('an operation over the query limits', () => {
  it.each(VALIDATION_LIMITS)('(%s) is a 400 over HTTP', async (_name, query, code) => {
    const user = await app.createUser();
    const res = await gql(app.url, user.key, query);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe(code);
  });

  it.each(OVER_LIMIT)(
    '(%s) is an error message for that operation only on a socket with a live subscription, which keeps delivering',
    async (_name, query, code) => {
      const user = await app.createUser();
      const job = await seedRunningJob(app.services.database, user.id);
      const s = openSocket(app.url, user.key);
      sockets.push(s);
      let closedWith: { code: number; reason: string } | null = null;
      void s.closed.then((c) => (closedWith = c));
      /** A message for `id`; fails at once when the socket closes instead. */
      const messageFor =
        (id: string, match: (m: any) => boolean = () => true) =>
        async () => {
          if (closedWith) throw new Error(`socket closed with ${closedWith.code} ${closedWith.reason}`);
          return s.messages.find((m) => m.id === id && match(m));
        };
      await s.acked;
      s.send({ id: 'live', type: 'subscribe', payload: { query: JOB_UPDATED, variables: { jobId: job.jobId } } });
      const first = await job.progress();
      await waitFor(
        'the first event',
        messageFor('live', (m) => m.payload?.data?.jobUpdated?.sequence === first),
        10_000,
      );

      for (const kind of ['query', 'subscription'] as const) {
        const id = `bad-${kind}`;
        s.send({ id, type: 'subscribe', payload: { query: kind === 'query' ? query : query.replace(/^query/, 'subscription') } });
        const refusal = await waitFor(`the refusal of the ${kind}`, messageFor(id), 10_000);
        expect(refusal.type).toBe('error');
        expect(refusal.payload[0].extensions.code).toBe(code);
      }

      const next = await job.progress();
      await waitFor(
        'an event after the refusals',
        messageFor('live', (m) => m.payload?.data?.jobUpdated?.sequence === next),
        10_000,
      );
      expect(s.ws.readyState).toBe(s.ws.OPEN);
      // Nothing else was sent for the refused ids (no `complete`, no second error).
      expect(s.messages.filter((m) => m.id?.startsWith('bad-')).map((m) => m.type)).toEqual(['error', 'error']);
      s.ws.close();
    },
  );
});
