// SSRF guard for webhook URLs. A webhook makes *our* server send a request to a URL a user chose,
// so without this a user could probe our internal network or the cloud metadata service. URLs are
// checked at registration (for a helpful error) and again at connect time through the socket's
// `lookup` hook, because DNS can answer differently the second time (DNS rebinding).
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export type Resolver = (host: string) => Promise<string[]>;

const ALLOW_HINT = 'webhooks must target a public address (set WEBHOOK_ALLOW_PRIVATE_URLS=true for local development)';

// Well-known metadata endpoints get their own name: "link-local" would hide why they are dangerous.
const CLOUD_METADATA = new Set(['169.254.169.254', 'fd00:ec2::254']);

// ipaddr.js range names -> the words we show users. Anything else non-public becomes 'reserved'.
const RANGE_LABELS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  carrierGradeNat: 'CGNAT',
  uniqueLocal: 'unique-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
};

function label(range: string): string {
  return RANGE_LABELS[range] ?? 'reserved';
}

function checkIPv4(ip: ipaddr.IPv4): string | null {
  if (CLOUD_METADATA.has(ip.toString())) return 'cloud-metadata';
  // Allow-list: only plain unicast is public. New special ranges in ipaddr.js stay refused.
  const range = ip.range();
  return range === 'unicast' ? null : label(range);
}

function v4FromParts(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function checkIPv6(ip: ipaddr.IPv6): string | null {
  if (CLOUD_METADATA.has(ip.toString())) return 'cloud-metadata'; // toString() is RFC 5952 form
  const range = ip.range();
  const p = ip.parts;
  switch (range) {
    // Forms that embed an IPv4 address: judge the embedded address (::ffff:127.0.0.1 is loopback).
    case 'ipv4Mapped':
      return checkIPv4(ip.toIPv4Address());
    case 'rfc6145': // ::ffff:0:a.b.c.d
    case 'rfc6052': // NAT64 64:ff9b::a.b.c.d — the gateway would connect to the embedded address
      return checkIPv4(v4FromParts(p[6], p[7]));
    case '6to4': // 2002:AABB:CCDD::/48
      return checkIPv4(v4FromParts(p[1], p[2]));
    case 'teredo':
      return null;
    case 'unicast':
      // ipaddr.js calls the rest of ::/8 "unicast", including deprecated IPv4-compatible
      // addresses like ::7f00:1; none of it is globally routable.
      return p[0] < 0x100 ? 'reserved' : null;
    default:
      return label(range);
  }
}

/**
 * The name of the forbidden range `ip` belongs to ('loopback', 'private', 'link-local',
 * 'cloud-metadata', 'CGNAT', 'unique-local', 'multicast', 'unspecified', 'broadcast',
 * 'reserved'), or null for a public address. Something that is not an IP at all is refused too.
 */
export function isForbiddenAddress(ip: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(ip);
  } catch {
    return 'invalid';
  }
  return parsed.kind() === 'ipv4' ? checkIPv4(parsed as ipaddr.IPv4) : checkIPv6(parsed as ipaddr.IPv6);
}

function describe(range: string): string {
  if (range === 'invalid') return 'not a valid IP address';
  // 'an unspecified', but 'a unique-local' (spoken "you-").
  return `${range === 'unspecified' ? 'an' : 'a'} ${range} address`;
}

/** Runs at most `max` calls of `fn` at once; the others wait their turn, in order. */
export function limitConcurrency<A extends unknown[], R>(fn: (...args: A) => Promise<R>, max: number): (...args: A) => Promise<R> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (...args) => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn(...args);
    } finally {
      const next = waiting.shift();
      if (next)
        next(); // the slot passes to the next caller
      else running--;
    }
  };
}

/**
 * System lookups at once, at most. getaddrinfo runs on libuv's thread pool (4 threads), which file
 * reads and writes share: a receiver whose DNS hangs (a dead name server: 5 s and more per lookup),
 * with 40 deliveries to it at once, would otherwise hold every thread and stall uploads and downloads
 * of the whole process.
 */
const MAX_SYSTEM_LOOKUPS = 2;

/** The default resolver: the system's, like the HTTP client would use (all addresses). */
export const systemResolve: Resolver = limitConcurrency(
  async (host: string) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address),
  MAX_SYSTEM_LOOKUPS,
);

/** Strips IPv6 brackets and a trailing root dot, so `[::1]` and `localhost.` are seen as they are. */
function bareHost(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Resolves `host` (or takes the literal) and explains the first forbidden address, if any. */
type Vetted = { addresses: string[] } | { reason: string; forbidden: boolean };

async function vetHost(host: string, resolve: Resolver): Promise<Vetted> {
  if (net.isIP(host)) {
    const range = isForbiddenAddress(host);
    return range ? { reason: `${host} is ${describe(range)}; ${ALLOW_HINT}`, forbidden: true } : { addresses: [host] };
  }
  // RFC 6761: these names always mean this machine, whatever a custom resolver says.
  if (host.toLowerCase() === 'localhost' || host.toLowerCase().endsWith('.localhost')) {
    return { reason: `${host} is this machine (a loopback name); ${ALLOW_HINT}`, forbidden: true };
  }
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { reason: `${host} could not be resolved (${code}); check the hostname`, forbidden: false };
  }
  if (addresses.length === 0) {
    return { reason: `${host} has no addresses; check the hostname`, forbidden: false };
  }
  // Refuse if ANY address is forbidden: the client may connect to any of them.
  for (const address of addresses) {
    const range = isForbiddenAddress(address);
    if (range) {
      return { reason: `${host} resolves to ${address}, ${describe(range)}; ${ALLOW_HINT}`, forbidden: true };
    }
  }
  return { addresses };
}

/**
 * Connect-time check for hosts that never reach a `lookup` function: Node connects to IP
 * literals directly. Returns the refusal reason, or null when the host is a name or public.
 */
export function literalHostRefusal(url: URL): string | null {
  const host = bareHost(url);
  const range = net.isIP(host) ? isForbiddenAddress(host) : null;
  return range ? `refused to connect: ${host} is ${describe(range)}; ${ALLOW_HINT}` : null;
}

/** Longest accepted webhook URL. */
export const MAX_WEBHOOK_URL_CHARS = 2048;

/** Registration-time check. `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_URLS) skips the address rules, not the resolution. */
export async function checkWebhookUrl(
  url: string,
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<{ ok: true; url: URL } | { ok: false; reason: string }> {
  // A URL is stored on the job, on each of its deliveries and in every log line about them.
  if (url.length > MAX_WEBHOOK_URL_CHARS) {
    return { ok: false, reason: `the URL is ${url.length} characters long; webhook URLs may have at most ${MAX_WEBHOOK_URL_CHARS}` };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: `${JSON.stringify(url)} is not a valid URL; use e.g. https://example.com/webhooks` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: `${parsed.protocol} URLs are not supported; webhook URLs must start with https:// or http://` };
  }
  // Credentials in the URL would be stored and shown back in endpoint.url and Job.webhookUrl; receivers
  // verify the signature instead.
  if (parsed.username || parsed.password) {
    return { ok: false, reason: 'webhook URLs must not carry credentials (user:password@); verify the webhook-signature header instead' };
  }
  if (parsed.port === '0') return { ok: false, reason: 'port 0 is not a port one can connect to; leave the port out or name a real one' };
  // WHATWG URL parsing already turned 2130706433, 0x7f.1 and 017700000001 into 127.0.0.1 and
  // [::ffff:127.0.0.1] into [::ffff:7f00:1], so the checks below see canonical addresses.
  const vetted = await vetHost(bareHost(parsed), options.resolve ?? systemResolve);
  // WEBHOOK_ALLOW_PRIVATE_URLS lets private and loopback addresses through; a name that does not
  // resolve is still refused now rather than at every delivery.
  if ('reason' in vetted && !(options.allowPrivate && vetted.forbidden)) return { ok: false, reason: vetted.reason };
  return { ok: true, url: parsed };
}

/**
 * Builds a `lookup` for net.connect / http.request that resolves and then refuses forbidden
 * addresses, so the check is repeated on the exact addresses the socket will use.
 * Note: Node skips `lookup` for IP-literal hosts; callers must vet literals themselves.
 */
export function createGuardedLookup(options: { resolve?: Resolver; allowPrivate?: boolean } = {}): net.LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  return (hostname, lookupOptions, callback) => {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const done = (addresses: string[]) => {
      const f = lookupOptions.family;
      const wanted = f === 4 || f === 'IPv4' ? 4 : f === 6 || f === 'IPv6' ? 6 : 0;
      const list = addresses.map((address) => ({ address, family: net.isIP(address) })).filter((a) => a.family !== 0 && (wanted === 0 || a.family === wanted));
      if (list.length === 0) {
        const err: NodeJS.ErrnoException = new Error(`${host} has no usable addresses`);
        err.code = 'ENOTFOUND';
        return callback(err, '');
      }
      // Node 22 asks for all addresses (happy eyeballs); older call sites want a single one.
      if (lookupOptions.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    };
    if (options.allowPrivate) {
      (net.isIP(host) ? Promise.resolve([host]) : resolve(host)).then(done, (err) => callback(err, ''));
      return;
    }
    vetHost(host, resolve).then(
      (vetted) => {
        if ('reason' in vetted) {
          const err: NodeJS.ErrnoException = new Error(vetted.forbidden ? `refused to connect: ${vetted.reason}` : vetted.reason);
          err.code = vetted.forbidden ? 'EWEBHOOKFORBIDDEN' : 'ENOTFOUND';
          return callback(err, '');
        }
        done(vetted.addresses);
      },
      (err) => callback(err, ''),
    );
  };
}

/** The connect-time guard with the system resolver. */
export const guardedLookup: net.LookupFunction = createGuardedLookup();
