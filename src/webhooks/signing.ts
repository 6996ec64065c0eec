// Standard Webhooks signing (https://www.standardwebhooks.com). We delegate the HMAC to the
// `standardwebhooks` package so receivers using any official Standard Webhooks library verify
// our signatures byte-for-byte; hand-rolled HMAC code is where such schemes usually drift.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  [name: string]: string;
}

/** `whsec_` + base64 of 32 random bytes (the spec asks for 24–64 bytes of key material). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Headers for one delivery. During a secret rotation the caller passes both the new and the old
 * secret: the spec allows several space-separated signatures, and a receiver accepts the message
 * if any of them matches the secret it knows, so nobody breaks during the 24 h overlap.
 */
export function signWebhook(input: { id: string; timestamp: Date; body: string; secrets: string[] }): WebhookSignatureHeaders {
  const secrets = [...new Set(input.secrets)];
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const signatures = secrets.map((s) => new Webhook(s).sign(input.id, input.timestamp, input.body));
  return {
    'webhook-id': input.id,
    // The library signs with whole seconds; the header must carry the same value.
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/**
 * Receiver-side check with the official library (true if any secret verifies). Meant for tests
 * and for documentation examples; it also enforces the library's 5-minute timestamp tolerance.
 */
export function verifyWebhook(input: { body: string; headers: Record<string, string | string[] | undefined>; secrets: string[] }): boolean {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) {
    if (typeof v === 'string') headers[k] = v;
  }
  return input.secrets.some((secret) => {
    try {
      new Webhook(secret).verify(input.body, headers, { jsonParse: false });
      return true;
    } catch {
      return false;
    }
  });
}
