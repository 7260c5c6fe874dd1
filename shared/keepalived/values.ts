/** Reading keepalived values off a statement: numbers, seconds, addresses, flags. */
import { formatDuration } from '../util/duration.ts';
import { canonicalIp, Cidr, IPV4_RE, ipFamily } from '../util/ip.ts';
import type { Stmt } from './parser.ts';
import { error, warn, type Cx } from './walk.ts';

/** The single value of `keyword VALUE`; extra values are warned about, a missing one is an error. */
export function one(st: Stmt, cx: Cx): string | undefined {
  if (st.block) error(cx, st.keyword, `${st.keyword.text} does not take a { } block`);
  if (st.args.length === 0) {
    error(cx, st.keyword, `${st.keyword.text} needs a value`);
    return undefined;
  }
  if (st.args.length > 1)
    warn(
      cx,
      st.args[1],
      `extra values after ${st.keyword.text} ignored: ${st.args
        .slice(1)
        .map((a) => a.text)
        .join(' ')}`,
    );
  return st.args[0].text;
}

/** All values joined by a space (notify scripts, commands). */
export function rest(st: Stmt, cx: Cx): string | undefined {
  if (st.args.length === 0) {
    error(cx, st.keyword, `${st.keyword.text} needs a value`);
    return undefined;
  }
  return st.args.map((a) => a.text).join(' ');
}

export function int(st: Stmt, cx: Cx, min: number, max: number, value = one(st, cx)): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) {
    error(cx, st.keyword, `${st.keyword.text} expects a whole number, not "${value}"`);
    return undefined;
  }
  const n = Number(value);
  if (n < min || n > max) {
    error(cx, st.keyword, `${st.keyword.text} ${n} is out of range ${min}–${max}`);
    return undefined;
  }
  return n;
}

/** A keepalived time in seconds (may be fractional, `0.05`) → a spec duration. */
export function seconds(st: Stmt, cx: Cx, value = one(st, cx)): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) {
    error(cx, st.keyword, `${st.keyword.text} expects seconds, not "${value}"`);
    return undefined;
  }
  return formatDuration(Math.round(Number(value) * 1000));
}

export function ipv4(st: Stmt, cx: Cx, value = one(st, cx)): string | undefined {
  if (value === undefined) return undefined;
  if (!IPV4_RE.test(value)) {
    error(cx, st.keyword, `${st.keyword.text} expects an IPv4 address, not "${value}"`);
    return undefined;
  }
  return value;
}

/** An address of either family (keepalived reads both wherever it takes an address); IPv6 comes back in RFC 5952 form. */
export function ip(st: Stmt, cx: Cx, value = one(st, cx)): string | undefined {
  if (value === undefined) return undefined;
  if (ipFamily(value) === null) {
    error(cx, st.keyword, `${st.keyword.text} expects an IPv4 or IPv6 address, not "${value}"`);
    return undefined;
  }
  return canonicalIp(value);
}

/** `a.b.c.d[/len]` or `v6[/len]` → always with the prefix (keepalived's default is /32 or /128), IPv6 in RFC 5952 form. */
export function cidr(value: string): string | null {
  const parsed = Cidr.safeParse(value);
  if (!parsed.success) return null;
  return parsed.data.includes('/') ? parsed.data : `${parsed.data}/${parsed.data.includes(':') ? 128 : 32}`;
}

/** A keyword that takes no value (nopreempt, alpha, …). */
export function flag(st: Stmt, cx: Cx): true {
  if (st.args.length) warn(cx, st.args[0], `${st.keyword.text} takes no value; ignored "${st.args.map((a) => a.text).join(' ')}"`);
  return true;
}

/** Checks that a block keyword has a block; reports and returns false otherwise. */
export function needsBlock(st: Stmt, cx: Cx): boolean {
  if (!st.block) {
    error(cx, st.keyword, `${st.keyword.text} needs a { } block`);
    return false;
  }
  return true;
}

/** A list block (`virtual_ipaddress { … }`, `unicast_peer { … }`): one entry per line. */
export function entries(st: Stmt, cx: Cx): Stmt[] {
  if (!needsBlock(st, cx)) return [];
  return st.block!;
}
