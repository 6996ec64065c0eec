// Signatures are checked with the official `standardwebhooks` verifier, i.e. exactly what a
// receiver following the Standard Webhooks docs would run.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, verifyWebhook } from '../../src/webhooks/signing';

const body = JSON.stringify({ type: 'job.completed', id: 'evt_123', createdAt: '2025-01-01T00:00:00Z', data: { jobId: 'job_1' } });

describe('webhook signing', () => {
  it('generates whsec_ secrets holding 32 random bytes, different every time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('produces the three Standard Webhooks headers that the official library verifies', () => {
    const secret = generateWebhookSecret();
    const timestamp = new Date();
    const headers = signWebhook({ id: 'evt_123', timestamp, body, secrets: [secret] });
    expect(headers['webhook-id']).toBe('evt_123');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with both secrets during a rotation so receivers holding either one accept the message', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = signWebhook({ id: 'evt_123', timestamp: new Date(), body, secrets: [newSecret, oldSecret] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('fails verification when the body was tampered with', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ id: 'evt_123', timestamp: new Date(), body, secrets: [secret] });
    const tampered = body.replace('job_1', 'job_2');
    expect(() => new Webhook(secret).verify(tampered, headers)).toThrow(WebhookVerificationError);
    expect(verifyWebhook({ body: tampered, headers, secrets: [secret] })).toBe(false);
    expect(verifyWebhook({ body, headers, secrets: [secret] })).toBe(true);
  });

  it('refuses to sign without any secret', () => {
    expect(() => signWebhook({ id: 'evt_1', timestamp: new Date(), body, secrets: [] })).toThrow(/at least one secret/);
  });
});
