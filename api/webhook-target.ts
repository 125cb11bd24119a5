/**
 * Where a webhook may be delivered: public unicast addresses only, unless the operator
 * allow-lists a range or a host (`fiscus serve --webhook-allow 10.1.2.0/24,hooks.internal`).
 *
 * A webhook URL is chosen by whoever writes the webhooks file, and the request carries a
 * signed body: pointed at loopback, the cloud metadata address (169.254.169.254), a private
 * range or the server's own admin port, it would reach inside. So:
 * - the URL is parsed by WHATWG URL, which normalises odd IPv4 spellings (`2130706433`,
 *   `0177.0.0.1`, `0x7f.1`, `127.1`, `①②⑦.0.0.1`) to dotted quads and IPv6 to its compressed
 *   form (`[::ffff:127.0.0.1]` → `[::ffff:7f00:1]`) before any check, and credentials
 *   (`user:pass@`) are refused;
 * - a literal address is checked as it stands; a host name is checked inside the socket's
 *   own `lookup` (`guardedLookup`), on every address it resolves to, so the address
 *   validated is the address connected to: a DNS answer that changes between a check and
 *   the connection (rebinding) cannot slip through;
 * - IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
 *   is judged as the IPv4 address it carries.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { FiscusError } from '../engine/errors.ts';

/** Bytes of an address: 4 for IPv4, 16 for IPv6; undefined if it is not an address. */
export function addressBytes(addr: string): Uint8Array | undefined {
  const a = addr.startsWith('[') && addr.endsWith(']') ? addr.slice(1, -1) : addr;
  const kind = isIP(a);
  if (kind === 4) return Uint8Array.from(a.split('.').map(Number));
  if (kind !== 6) return undefined;
  let s = a.replace(/%.*$/, ''); // zone id: not part of the address
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [o1, o2, o3, o4] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((o1 << 8) | o2).toString(16)}:${((o3 << 8) | o4).toString(16)}`;
  }
  const halves = s.split('::');
  const parse = (p: string) => (p === '' ? [] : p.split(':').map((h) => parseInt(h, 16)));
  const h = parse(halves[0]!);
  const r = halves.length > 1 ? parse(halves[1]!) : [];
  const groups = halves.length > 1 ? [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r] : h;
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

function cidr(text: string): Cidr {
  const [addr, p] = text.split('/');
  const bytes = addressBytes(addr!);
  const max = bytes ? bytes.length * 8 : 0;
  const prefix = p === undefined ? max : /^\d{1,3}$/.test(p) ? Number(p) : NaN;
  if (!bytes || !(prefix >= 0 && prefix <= max)) throw new Error(`not a CIDR: ${text}`);
  return { bytes, prefix };
}

function inCidr(bytes: Uint8Array, c: Cidr): boolean {
  if (bytes.length !== c.bytes.length) return false;
  for (let bit = 0; bit < c.prefix; bit += 8) {
    const n = Math.min(8, c.prefix - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (c.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/** IPv4 ranges that are not public unicast (IANA special-purpose registry), with why. */
const V4_FORBIDDEN: [Cidr, string][] = (
  [
    ['0.0.0.0/8', 'unspecified ("this network")'],
    ['10.0.0.0/8', 'private (RFC 1918)'],
    ['100.64.0.0/10', 'shared address space (CGNAT, RFC 6598)'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local (cloud metadata lives at 169.254.169.254)'],
    ['172.16.0.0/12', 'private (RFC 1918)'],
    ['192.0.0.0/24', 'IETF protocol assignments'],
    ['192.0.2.0/24', 'documentation (TEST-NET-1)'],
    ['192.88.99.0/24', '6to4 relay anycast'],
    ['192.168.0.0/16', 'private (RFC 1918)'],
    ['198.18.0.0/15', 'benchmarking'],
    ['198.51.100.0/24', 'documentation (TEST-NET-2)'],
    ['203.0.113.0/24', 'documentation (TEST-NET-3)'],
    ['224.0.0.0/4', 'multicast'],
    ['255.255.255.255/32', 'broadcast'],
    ['240.0.0.0/4', 'reserved'],
  ] as const
).map(([c, why]) => [cidr(c), why]);

/** IPv6 ranges inside 2000::/3 (the only global unicast block) that are still not public. */
const V6_FORBIDDEN: [Cidr, string][] = (
  [
    ['2001::/23', 'IETF protocol assignments (incl. Teredo)'],
    ['2001:db8::/32', 'documentation'],
  ] as const
).map(([c, why]) => [cidr(c), why]);
const V6_NAMED: [Cidr, string][] = (
  [
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['64:ff9b:1::/48', 'local-use NAT64'],
    ['100::/64', 'discard-only'],
    ['fc00::/7', 'unique local (private)'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'site-local'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([c, why]) => [cidr(c), why]);
const V6_GLOBAL = cidr('2000::/3');
const V6_MAPPED = cidr('::ffff:0:0/96');
const V6_NAT64 = cidr('64:ff9b::/96');
const V6_6TO4 = cidr('2002::/16');

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if any. */
function embeddedV4(b: Uint8Array): Uint8Array | undefined {
  if (inCidr(b, V6_MAPPED) || inCidr(b, V6_NAT64)) return b.slice(12, 16);
  if (inCidr(b, V6_6TO4)) return b.slice(2, 6);
  return undefined;
}

/** Why an address is not a public unicast address; undefined when it is one. */
export function forbiddenReason(addr: string): string | undefined {
  const b = addressBytes(addr);
  if (!b) return 'not an IP address';
  if (b.length === 4) return V4_FORBIDDEN.find(([c]) => inCidr(b, c))?.[1];
  const v4 = embeddedV4(b);
  if (v4) {
    const why = V4_FORBIDDEN.find(([c]) => inCidr(v4, c))?.[1];
    return why ? `${why}, as IPv4 embedded in IPv6` : undefined;
  }
  const named = V6_NAMED.find(([c]) => inCidr(b, c))?.[1];
  if (named) return named;
  if (!inCidr(b, V6_GLOBAL)) return 'reserved (outside 2000::/3)';
  return V6_FORBIDDEN.find(([c]) => inCidr(b, c))?.[1];
}

/** What the operator allows beyond public addresses: ranges (CIDR or single address) and host names. */
export class TargetAllowList {
  private readonly ranges: Cidr[] = [];
  private readonly hosts = new Set<string>();

  /** Entries: `10.0.0.0/8`, `127.0.0.1`, `::1/128`, `hooks.internal`. Throws on anything else. */
  constructor(readonly entries: readonly string[] = []) {
    for (const raw of entries) {
      const e = raw.trim();
      if (e === '') continue;
      if (e.includes('/') || isIP(e.replace(/^\[|\]$/g, ''))) {
        try {
          this.ranges.push(cidr(e.replace(/^\[|\]$/g, '').replace(/\]\//, '/')));
        } catch {
          throw new FiscusError(`webhook allow-list entry "${e}" is not a CIDR (e.g. 10.1.2.0/24, 127.0.0.1/32, fd00::/8)`, { code: 'WEBHOOK_ALLOW' });
        }
      } else {
        let host: string;
        try {
          host = new URL(`http://${e}/`).hostname;
        } catch {
          host = '';
        }
        if (!host || host !== e.toLowerCase().replace(/\.$/, '')) {
          throw new FiscusError(`webhook allow-list entry "${e}" is neither a CIDR nor a host name`, { code: 'WEBHOOK_ALLOW' });
        }
        this.hosts.add(host);
      }
    }
  }

  allowsHost(hostname: string): boolean {
    return this.hosts.has(hostname.toLowerCase().replace(/\.$/, ''));
  }

  allowsAddress(addr: string): boolean {
    const b = addressBytes(addr);
    if (!b) return false;
    const v4 = b.length === 16 ? embeddedV4(b) : undefined;
    return this.ranges.some((c) => inCidr(b, c) || (v4 !== undefined && inCidr(v4, c)));
  }
}

export class WebhookTargetError extends FiscusError {
  constructor(message: string) {
    super(message, { code: 'WEBHOOK_TARGET' });
    this.name = 'WebhookTargetError';
  }
}

const HINT = 'webhooks go to public addresses only; allow a range with `fiscus serve --webhook-allow CIDR` (server option webhookAllowTargets)';

/** Refuse an address unless it is public or allow-listed. */
export function checkAddress(addr: string, allow: TargetAllowList, what: string): void {
  if (allow.allowsAddress(addr)) return;
  const why = forbiddenReason(addr);
  if (why) throw new WebhookTargetError(`webhook target ${what} resolves to ${addr}, which is ${why}; ${HINT}`);
}

/**
 * The checks that need no DNS: scheme, credentials, and a literal address (the socket does
 * not look literals up, so `guardedLookup` never sees them). Returns the parsed URL.
 */
export function checkWebhookUrl(url: string, allow: TargetAllowList): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WebhookTargetError(`webhook URL "${url}" is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new WebhookTargetError(`webhook URL ${u.origin}: only http and https are allowed`);
  if (u.username || u.password) {
    throw new WebhookTargetError(`webhook URL for ${u.host} carries credentials (user:pass@); receivers verify the webhook-signature instead`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (!allow.allowsAddress(host)) {
      const why = forbiddenReason(host);
      if (why) throw new WebhookTargetError(`webhook target ${u.host} is ${why}; ${HINT}`);
    }
  }
  return u;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (hostname: string, options: LookupAllOptions, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A `lookup` for http.request / net.connect that resolves every address of the host and
 * refuses the connection if any of them is not allowed (a name that also resolves to an
 * internal address is refused whole). Node 20 calls it with `all: true` when it races
 * address families (autoSelectFamily), with `all: false` otherwise; both are answered.
 */
export function guardedLookup(allow: TargetAllowList, resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allow.allowsHost(hostname)) {
        try {
          if (addresses.length === 0) throw new WebhookTargetError(`webhook target ${hostname} resolves to no address`);
          for (const a of addresses) checkAddress(a.address, allow, hostname);
        } catch (e) {
          return callback(e as NodeJS.ErrnoException, []);
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Resolve a URL's host now and check it (startup check of a webhooks file; delivery checks again). */
export async function checkWebhookTarget(url: string, allow: TargetAllowList): Promise<string[]> {
  const u = checkWebhookUrl(url, allow);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return [host];
  const lookup = guardedLookup(allow);
  return new Promise((resolve, reject) =>
    lookup(host, { all: true }, (err, addrs) => (err ? reject(err) : resolve((addrs as LookupAddress[]).map((a) => a.address)))),
  );
}
