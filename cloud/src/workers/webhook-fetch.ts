import type { Fetch } from '../alerts/queue.ts';
import { checkedTarget, type WebhookTargetPolicy } from '../alerts/webhook-target.ts';

/** DNS over HTTPS (RFC 8484's JSON flavour) is how a Worker learns where a name points. */
const DOH = 'https://cloudflare-dns.com/dns-query';

/** A and AAAA addresses of `name` through DNS over HTTPS. */
async function dohResolve(name: string): Promise<string[]> {
  const answers = await Promise.all(
    ['A', 'AAAA'].map(async (type) => {
      const res = await fetch(`${DOH}?name=${encodeURIComponent(name)}&type=${type}`, { headers: { accept: 'application/dns-json' } });
      if (!res.ok) throw new Error(`DNS over HTTPS answered ${res.status}`);
      const body = (await res.json()) as { Answer?: { type: number; data: string }[] };
      return (body.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
    }),
  );
  return answers.flat();
}

/**
 * The webhook sender of the Workers entry: the Node sender's checks (cloud/src/alerts/
 * webhook-transport.ts) with the runtime's `fetch`. Every address the host resolves to is checked
 * before each attempt; redirects are never followed (a 3xx is a final failure) and the answer's
 * body is not read (only its status counts). Unlike Node, the connection cannot be pinned to the
 * checked address; Cloudflare's own fetch refuses private and loopback targets in production.
 */
export function workerWebhookFetch(policy: WebhookTargetPolicy): Fetch {
  const resolve = policy.resolve ?? dohResolve;
  return async (raw, init) => {
    const { url } = await checkedTarget(raw, policy.allowPrivate, resolve);
    const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal, redirect: 'manual' });
    await res.body?.cancel();
    return { status: res.status };
  };
}
