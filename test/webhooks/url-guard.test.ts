import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  checkWebhookUrl,
  createGuardedLookup,
  guardedLookup,
  isForbiddenAddress,
  limitConcurrency,
  type Resolver,
  systemResolve,
} from '../../src/webhooks/url-guard';

const HINT = 'webhooks must target a public address (set WEBHOOK_ALLOW_PRIVATE_URLS=true for local development)';

// Literal addresses must never reach DNS; this resolver fails loudly if they do.
const noDns: Resolver = async (host) => {
  throw new Error(`unexpected DNS lookup for ${host}`);
};
const fakeDns =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const hit = table[host];
    if (!hit) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return hit;
  };

function lookupAsync(lookup: ReturnType<typeof createGuardedLookup>, host: string, all: boolean) {
  return new Promise<{ address: string | LookupAddress[]; family?: number }>((resolve, reject) =>
    lookup(host, { all }, (err, address, family) => (err ? reject(err) : resolve({ address, family }))),
  );
}

describe('checkWebhookUrl', () => {
  it.each([
    ['http://localhost:8080/hook', 'loopback name'],
    ['http://LOCALHOST./hook', 'loopback name'],
    ['http://app.localhost/hook', 'loopback name'],
    ['http://127.0.0.1/hook', 'a loopback address'],
    ['http://2130706433/hook', '127.0.0.1 is a loopback address'],
    ['http://0x7f.1/hook', '127.0.0.1 is a loopback address'],
    ['http://017700000001/hook', '127.0.0.1 is a loopback address'],
    ['http://10.1.2.3/hook', 'a private address'],
    ['http://172.16.0.1/hook', 'a private address'],
    ['http://172.31.255.254/hook', 'a private address'],
    ['http://192.168.1.10/hook', 'a private address'],
    ['http://100.64.0.1/hook', 'a CGNAT address'],
    ['http://169.254.169.254/latest/meta-data/', 'a cloud-metadata address'],
    ['http://169.254.1.1/hook', 'a link-local address'],
    ['http://0.0.0.0/hook', 'an unspecified address'],
    ['http://224.0.0.1/hook', 'a multicast address'],
    ['http://240.0.0.1/hook', 'a reserved address'],
    ['http://[::1]/hook', 'a loopback address'],
    ['http://[::]/hook', 'an unspecified address'],
    ['http://[fe80::1]/hook', 'a link-local address'],
    ['http://[fc00::1]/hook', 'a unique-local address'],
    ['http://[fd00:ec2::254]/hook', 'a cloud-metadata address'],
    ['http://[::ffff:127.0.0.1]/hook', 'a loopback address'],
    ['http://[::ffff:10.0.0.1]/hook', 'a private address'],
    ['http://[64:ff9b::a9fe:a9fe]/hook', 'a cloud-metadata address'],
    ['http://[2002:c0a8:0101::1]/hook', 'a private address'],
    ['http://[ff02::1]/hook', 'a multicast address'],
  ])('refuses %s because it is %s', async (url, why) => {
    const result = await checkWebhookUrl(url, { allowPrivate: false, resolve: noDns });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(why);
    expect(result.reason).toContain(HINT);
  });

  it.each(['ftp://example.com/hook', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://example.com/'])(
    'refuses the non-http URL %s and says which schemes work',
    async (url) => {
      const result = await checkWebhookUrl(url, { allowPrivate: false, resolve: noDns });
      expect(result).toEqual({ ok: false, reason: expect.stringContaining('must start with https:// or http://') });
    },
  );

  it('refuses a string that is not a URL at all', async () => {
    const result = await checkWebhookUrl('not a url', { allowPrivate: false, resolve: noDns });
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('is not a valid URL') });
  });

  it('refuses a hostname that resolves to 127.0.0.1 and explains what to do', async () => {
    const result = await checkWebhookUrl('https://hooks.example.com/in', {
      allowPrivate: false,
      resolve: fakeDns({ 'hooks.example.com': ['127.0.0.1'] }),
    });
    expect(result).toEqual({
      ok: false,
      reason: `hooks.example.com resolves to 127.0.0.1, a loopback address; ${HINT}`,
    });
  });

  it('refuses a hostname when any one of its addresses is private', async () => {
    const result = await checkWebhookUrl('https://hooks.example.com/in', {
      allowPrivate: false,
      resolve: fakeDns({ 'hooks.example.com': ['93.184.215.14', '10.0.0.7'] }),
    });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('10.0.0.7, a private address') });
  });

  it('refuses a hostname that does not resolve and says to check it', async () => {
    const result = await checkWebhookUrl('https://nope.example.com/', { allowPrivate: false, resolve: fakeDns({}) });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('could not be resolved (ENOTFOUND)') });
  });

  it('accepts public IPv4 and IPv6 literals without any DNS lookup', async () => {
    for (const url of ['https://93.184.215.14/hook', 'http://8.8.8.8:8080/x', 'https://[2606:4700:4700::1111]/hook']) {
      const result = await checkWebhookUrl(url, { allowPrivate: false, resolve: noDns });
      expect(result.ok, url).toBe(true);
    }
  });

  it('accepts a hostname whose addresses are all public and returns the parsed URL', async () => {
    const result = await checkWebhookUrl('https://hooks.example.com/in?x=1', {
      allowPrivate: false,
      resolve: fakeDns({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] }),
    });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.url.href).toBe('https://hooks.example.com/in?x=1');
  });

  it('accepts private and loopback targets when allowPrivate is true, but still only http(s)', async () => {
    expect((await checkWebhookUrl('http://127.0.0.1:3000/hook', { allowPrivate: true })).ok).toBe(true);
    expect((await checkWebhookUrl('http://localhost:3000/hook', { allowPrivate: true })).ok).toBe(true);
    expect((await checkWebhookUrl('ftp://127.0.0.1/', { allowPrivate: true })).ok).toBe(false);
    const privateName = await checkWebhookUrl('http://hooks.lan/in', { allowPrivate: true, resolve: fakeDns({ 'hooks.lan': ['10.0.0.7'] }) });
    expect(privateName.ok).toBe(true);
  });

  it('still refuses a hostname that does not resolve when allowPrivate is true', async () => {
    const result = await checkWebhookUrl('https://nope.example.com/', { allowPrivate: true, resolve: fakeDns({}) });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('could not be resolved (ENOTFOUND); check the hostname') });
  });
});

describe('checkWebhookUrl, on what any URL must satisfy (even with WEBHOOK_ALLOW_PRIVATE_URLS)', () => {
  for (const allowPrivate of [false, true]) {
    it(`refuses a URL over 2 KB, with credentials, or with port 0 (allowPrivate ${allowPrivate})`, async () => {
      const long = await checkWebhookUrl(`https://93.184.216.34/${'a'.repeat(900_000)}`, { allowPrivate, resolve: noDns });
      expect(long).toEqual({ ok: false, reason: 'the URL is 900022 characters long; webhook URLs may have at most 2048' });
      expect(await checkWebhookUrl(`https://93.184.216.34/${'a'.repeat(2048 - 22)}`, { allowPrivate, resolve: noDns })).toMatchObject({ ok: true });
      for (const url of ['https://user:pass@93.184.216.34/h', 'https://user@93.184.216.34/h', 'https://:pw@93.184.216.34/h']) {
        expect(await checkWebhookUrl(url, { allowPrivate, resolve: noDns })).toEqual({
          ok: false,
          reason: 'webhook URLs must not carry credentials (user:password@); verify the webhook-signature header instead',
        });
      }
      expect(await checkWebhookUrl('https://93.184.216.34:0/h', { allowPrivate, resolve: noDns })).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^port 0 /),
      });
    });
  }
});

describe('isForbiddenAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['100.100.100.200', 'CGNAT'],
    ['169.254.169.254', 'cloud-metadata'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::7f00:1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['fe80::1%eth0', 'link-local'],
    ['not-an-ip', 'invalid'],
  ])('classifies %s as %s', (ip, range) => {
    expect(isForbiddenAddress(ip)).toBe(range);
  });

  it.each(['8.8.8.8', '93.184.215.14', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('treats %s as public', (ip) => {
    expect(isForbiddenAddress(ip)).toBeNull();
  });
});

describe('guarded lookup (connect-time check)', () => {
  it('refuses a name that now resolves to a private address even if it was public at registration', async () => {
    const lookup = createGuardedLookup({ resolve: fakeDns({ 'hooks.example.com': ['10.0.0.5'] }) });
    await expect(lookupAsync(lookup, 'hooks.example.com', true)).rejects.toMatchObject({
      code: 'EWEBHOOKFORBIDDEN',
      message: expect.stringContaining('hooks.example.com resolves to 10.0.0.5, a private address'),
    });
  });

  it('answers in both the single-address and the all-addresses form Node may ask for', async () => {
    const lookup = createGuardedLookup({ resolve: fakeDns({ 'hooks.example.com': ['93.184.215.14', '2606:4700::1'] }) });
    expect(await lookupAsync(lookup, 'hooks.example.com', true)).toMatchObject({
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ],
    });
    expect(await lookupAsync(lookup, 'hooks.example.com', false)).toEqual({ address: '93.184.215.14', family: 4 });
  });

  it('passes a resolution failure through as a lookup error rather than a refusal', async () => {
    const lookup = createGuardedLookup({ resolve: fakeDns({}) });
    await expect(lookupAsync(lookup, 'nope.example.com', true)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('refuses localhost with the system resolver', async () => {
    await expect(lookupAsync(guardedLookup, 'localhost', true)).rejects.toMatchObject({ code: 'EWEBHOOKFORBIDDEN' });
  });
});

describe('system lookups', () => {
  it('run at most a few at once (getaddrinfo holds a thread of the pool file I/O shares), the others in turn', async () => {
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const slow = limitConcurrency(async (n: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      order.push(n);
      return n * 2;
    }, 2);
    expect(await Promise.all(Array.from({ length: 7 }, (_, n) => slow(n)))).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(most).toBe(2);
    expect(order.slice(0, 2).sort()).toEqual([0, 1]);
    // A failing call gives its turn up too.
    const failing = limitConcurrency(async (n: number) => {
      if (n % 2) throw new Error(`no ${n}`);
      return n;
    }, 1);
    const settled = await Promise.allSettled(Array.from({ length: 4 }, (_, n) => failing(n)));
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  });

  it('answer every one of many concurrent lookups through the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => systemResolve('localhost')));
    for (const addresses of answers) expect(addresses.some((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
  });
});
