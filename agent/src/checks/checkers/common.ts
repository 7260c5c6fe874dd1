import { isIPv6 } from 'node:net';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import type * as z from 'zod';
import { CheckError, type ProbeOutcome } from '../types.ts';

/** The detail every checker reports when connect_timeout expires. */
const timeoutDetail = (check: ResolvedCheck): string => `timeout after ${check.timeoutMs} ms`;

/** `connect ECONNREFUSED` from a Node socket error (errno code when there is one). */
export function errorDetail(what: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return `${what} ${e?.code ?? e?.message ?? String(err)}`;
}

/**
 * Runs one attempt: `start` opens sockets or processes and calls `settle` once; it returns the
 * cleanup that closes them. Abort (connect_timeout) settles with a timeout failure. Never rejects:
 * every failure is an outcome with a detail.
 */
export function attempt(check: ResolvedCheck, signal: AbortSignal, start: (settle: (o: ProbeOutcome) => void) => () => void): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      try {
        cleanup();
      } finally {
        resolve(o);
      }
    };
    const onAbort = () => settle({ ok: false, detail: timeoutDetail(check) });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(settle);
      if (done) cleanup();
    } catch (err) {
      settle({ ok: false, detail: err instanceof CheckError ? err.message : errorDetail('error', err) });
    }
  });
}

/** Parsed params per check object: the scheduler passes the same object on every attempt. */
const parsed = new WeakMap<ResolvedCheck, unknown>();

/** Validates a check's type-specific params at the edge; bad params are a BAD_PARAMS CheckError. */
export function parseParams<T extends z.ZodType>(schema: T, check: ResolvedCheck): z.infer<T> {
  if (parsed.has(check)) return parsed.get(check) as z.infer<T>;
  const r = schema.safeParse(check.params);
  if (r.success) {
    parsed.set(check, r.data);
    return r.data;
  }
  const issue = r.error.issues[0];
  throw new CheckError('BAD_PARAMS', `bad ${check.type} check params: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** Hex string (already validated by the spec) to bytes. */
export const hexBytes = (hex: string | undefined): Buffer => Buffer.from(hex ?? '', 'hex');

/** `address:port`, with the brackets an IPv6 address needs there (RFC 3986 §3.2.2): `[2001:db8::1]:80`. */
export const hostPort = (address: string, port: number): string => (isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`);

/** The UDP socket type that can reach `address`: an IPv4 socket cannot send to an IPv6 address. */
export const udpFamily = (address: string): 'udp4' | 'udp6' => (isIPv6(address) ? 'udp6' : 'udp4');
