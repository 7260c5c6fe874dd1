import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Fetch } from './queue.ts';
import { checkedTarget, type WebhookTargetPolicy } from './webhook-target.ts';

/** The most of a receiver's answer that is read: only its status matters. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Every address a name resolves to (A and AAAA), as the system resolver answers. */
export async function systemResolve(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * The webhook sender. Before every attempt the host is resolved and every address is checked
 * (addressRefusal), and the connection goes to the checked address only (a pinned `lookup`), so a
 * name that resolves to a public address at `add` and to 127.0.0.1 later (DNS rebinding) is still
 * refused. Redirects are never followed (a 3xx is a final failure), the caller's signal bounds the
 * whole attempt, and at most 64 KiB of the answer is read.
 */
export function webhookFetch(policy: WebhookTargetPolicy): Fetch {
  const resolve = policy.resolve ?? systemResolve;
  return async (raw, init) => {
    const { url, addresses } = await checkedTarget(raw, policy.allowPrivate, resolve);
    const pinned = addresses[0];
    const family = pinned.includes(':') ? 6 : 4;
    const pin: LookupFunction = (_name, options, done) => {
      if (options.all) (done as (err: null, all: { address: string; family: number }[]) => void)(null, [{ address: pinned, family }]);
      else done(null, pinned, family);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<{ status: number }>((resolveStatus, reject) => {
      // A literal host never reaches `lookup`; it was checked above and is the pinned address.
      const req = send(url, { method: init.method, headers: init.headers, signal: init.signal, lookup: pin }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => resolveStatus({ status }));
        res.on('error', () => resolveStatus({ status }));
      });
      req.on('error', reject);
      req.end(init.body);
    });
  };
}
