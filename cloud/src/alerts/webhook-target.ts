/**
 * Where a webhook may point (server-side request forgery): an admin names a URL and the cloud
 * POSTs to it, so the URL must not reach the cloud's own loopback services, a cloud metadata
 * endpoint or a link-local neighbour. Pure and runtime-agnostic: the API checks a URL when it is
 * added, the Node transport checks every resolved address again right before it connects.
 */

export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

/** How the checks treat private ranges; `resolve` turns a host name into its addresses (Node: dns.lookup). */
export interface WebhookTargetPolicy {
  /** `serve --webhook-allow-private`: private ranges and loopback are allowed (on-prem receivers). */
  allowPrivate: boolean;
  resolve?: (hostname: string) => Promise<string[]>;
}

function parseIpv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** 16 bytes of an IPv6 literal (with `::` and an embedded dotted quad), or null. */
function parseIpv6(s: string): number[] | null {
  const text = s.replace(/%.*$/, ''); // zone id (fe80::1%eth0)
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return null;
  const expand = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const groups = half.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const [head, tail] = text.split('::');
  const a = expand(head);
  const b = tail === undefined ? [] : expand(tail);
  if (!a || !b) return null;
  const missing = 8 - a.length - b.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const words = [...a, ...new Array<number>(missing).fill(0), ...b];
  return words.flatMap((w) => [w >> 8, w & 255]);
}

function classifyV4([a, b, c, d]: number[]): AddressClass {
  if (a === 169 && b === 254 && c === 169 && d === 254) return 'metadata';
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  return 'public';
}

function classifyV6(x: number[]): AddressClass {
  const zeroes = (n: number) => x.slice(0, n).every((v) => v === 0);
  // fd00:ec2::254, the AWS metadata service over IPv6.
  const metadata = [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54];
  if (x.every((v, i) => v === metadata[i])) return 'metadata';
  if (zeroes(16)) return 'unspecified';
  if (zeroes(15) && x[15] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d reach the embedded IPv4 address.
  if (zeroes(10) && x[10] === 0xff && x[11] === 0xff) return classifyV4(x.slice(12));
  if (x[0] === 0x00 && x[1] === 0x64 && x[2] === 0xff && x[3] === 0x9b && x.slice(4, 12).every((v) => v === 0)) return classifyV4(x.slice(12));
  if (x[0] === 0xfe && (x[1] & 0xc0) === 0x80) return 'link-local';
  if ((x[0] & 0xfe) === 0xfc) return 'private';
  if (x[0] === 0xff) return 'multicast';
  return 'public';
}

/** The class of an IP literal (IPv4 dotted quad or IPv6, brackets allowed), or null for a host name. */
export function classifyAddress(ip: string): AddressClass | null {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const v4 = parseIpv4(bare);
  if (v4) return classifyV4(v4);
  const v6 = bare.includes(':') ? parseIpv6(bare) : null;
  return v6 ? classifyV6(v6) : null;
}

/**
 * Why a webhook may not connect to `ip`, or null when it may. Link-local, metadata, unspecified,
 * multicast and reserved addresses never; loopback and private ranges only with allowPrivate.
 */
export function addressRefusal(ip: string, allowPrivate: boolean): string | null {
  const cls = classifyAddress(ip);
  if (cls === null) return `${ip} is not an IP address`;
  if (cls === 'public') return null;
  if ((cls === 'private' || cls === 'loopback') && allowPrivate) return null;
  const hint = cls === 'private' || cls === 'loopback' ? ' (start the server with --webhook-allow-private for on-premises receivers)' : '';
  return `${ip} is a ${cls} address${hint}`;
}

/**
 * Why a webhook URL is refused, or null: not http(s), credentials in the URL, or a host that is
 * (or, when the policy can resolve names, resolves to) an address addressRefusal refuses.
 */
export async function webhookUrlRefusal(raw: string, policy: WebhookTargetPolicy): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `url must be http(s), not ${url.protocol.replace(/:$/, '')}`;
  if (url.username || url.password) return 'url must not carry credentials (the signature authenticates the sender)';
  const host = url.hostname;
  if (classifyAddress(host) !== null) return addressRefusal(host, policy.allowPrivate);
  if (!policy.resolve) return null;
  let addresses: string[];
  try {
    addresses = await policy.resolve(host);
  } catch (err) {
    return `${host} does not resolve: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!addresses.length) return `${host} does not resolve`;
  for (const a of addresses) {
    const why = addressRefusal(a, policy.allowPrivate);
    if (why) return `${host} resolves to ${why}`;
  }
  return null;
}

/**
 * The check before every delivery attempt, shared by the Node and Workers senders: the URL is
 * http(s), and every address its host is (or resolves to now, through `resolve`) passes
 * addressRefusal. Answers the URL and the checked addresses; throws `refused: …` otherwise.
 */
export async function checkedTarget(
  raw: string,
  allowPrivate: boolean,
  resolve: (host: string) => Promise<string[]>,
): Promise<{ url: URL; addresses: string[] }> {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`refused: url must be http(s), not ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = classifyAddress(host) !== null ? [host] : await resolve(host);
  if (!addresses.length) throw new Error(`refused: ${host} does not resolve`);
  for (const a of addresses) {
    const why = addressRefusal(a, allowPrivate);
    if (why) throw new Error(`refused: ${host === a ? why : `${host} resolves to ${why}`}`);
  }
  return { url, addresses };
}
