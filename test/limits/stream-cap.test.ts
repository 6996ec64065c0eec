// Every streaming response counts against WS_MAX_CONNECTIONS_PER_KEY's SSE cap, whatever the Accept
// header says: Yoga streams a subscription to `accept: */*`, and to a request with no Accept at all,
// exactly as to `text/event-stream` (the cap used to look at the Accept header only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { waitFor } from '../helpers/jobs';
import { JOB_EVENTS } from '../events/helpers';
import { openStream } from './helpers';

let app: TestApp;
const open: Array<{ close(): void }> = [];

beforeAll(async () => {
  app = await startTestApp({ env: { ROLE: 'api', WS_MAX_CONNECTIONS_PER_KEY: '1' } });
});
afterAll(async () => {
  for (const s of open) s.close();
  await app?.close();
});

async function stream(key: string, accept: string | null) {
  const s = await openStream(app.url, key, accept, JOB_EVENTS);
  open.push(s);
  return s;
}

const ACCEPTS: Array<[string, string | null]> = [
  ['accept: */*', '*/*'],
  ['no Accept header', null],
  ['accept: text/event-stream', 'text/event-stream'],
  ['accept: application/json, */*;q=0.5', 'application/json, */*;q=0.5'],
];

describe('streaming responses per API key', () => {
  it.each(ACCEPTS)('with %s a subscription is a stream, counted: the one over the cap is refused, 429 RATE_LIMITED', async (_name, accept) => {
    const user = await app.createUser();
    const first = await stream(user.key, accept);
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);

    // The key's cap (1) is used up by that stream, whichever way the next one asks.
    for (const other of ['text/event-stream', '*/*', null]) {
      const refused = await stream(user.key, other);
      expect(refused.status, `second stream with accept ${other}`).toBe(429);
      expect(refused.retryAfter).toBe('5');
      expect(refused.contentType).toMatch(/^application\/json/);
      expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 5 });
      expect(refused.body.errors[0].message).toMatch(/at most 1\b/);
    }
    // Plain requests of the key are not streams.
    expect((await gql(app.url, user.key, '{ viewer { id } }')).status).toBe(200);

    // Closing the stream frees its slot.
    first.close();
    const again = await waitFor(
      'the slot to free up',
      async () => {
        const attempt = await stream(user.key, accept);
        return attempt.status === 200 ? attempt : null;
      },
      5_000,
    );
    again.close();
  });
});
