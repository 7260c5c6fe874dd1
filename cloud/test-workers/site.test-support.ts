import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { Db } from '../src/db/client.ts';
import { outbox, sites } from '../src/db/schema.ts';
import type { PublisherState } from '../src/workers/site-publisher.ts';

/**
 * The small NAT site the workerd tests apply through the Worker: `nodes` directors (d1, d2, …) in
 * 192.0.2.0/24 and one `web` service on 192.0.2.100:80 with `realServers` real servers
 * (192.0.2.21, .22, …); `extra` adds to its spec (a VRRP group, a health check).
 */
export function natSite(name: string, o: { directors?: number; realServers?: number; spec?: Record<string, unknown>; service?: Record<string, unknown> } = {}) {
  const directors = o.directors ?? 1;
  const realServers = o.realServers ?? 1;
  return {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name },
    spec: {
      nodes: Array.from({ length: directors }, (_, i) => ({ name: `d${i + 1}`, role: 'director', address: `192.0.2.${10 + i}`, interface: 'eth0' })),
      ...o.spec,
      services: [
        {
          name: 'web',
          vip: '192.0.2.100',
          port: 80,
          protocol: 'tcp',
          scheduler: 'wlc',
          forwarding: 'nat',
          ...o.service,
          realServers: Array.from({ length: realServers }, (_, i) => ({ address: `192.0.2.${21 + i}`, port: 8080, weight: 1 })),
        },
      ],
    },
  };
}

/**
 * Waits until the site's outbox has nothing pending: an apply wakes the site's publisher, and its
 * drain should end inside the file that woke it. A Durable Object still at work when its file ends
 * is where workerd's "I/O on behalf of a different Durable Object" errors and hung runs came from.
 */
export async function untilDrained(db: Db, siteName: string, timeoutMs = 30_000): Promise<void> {
  const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.name, siteName));
  if (!site) throw new Error(`no site ${siteName}`);
  const pending = and(eq(outbox.siteId, site.id), eq(outbox.status, 'pending'));
  await waitFor(async () => (await db.select({ id: outbox.id }).from(outbox).where(pending)).length === 0, {
    timeoutMs,
    intervalMs: 100,
    what: `site ${siteName}'s outbox to have nothing pending`,
  });
}

/** The Worker's site publishers (one Durable Object per site, named by the site id). */
export const sitePublishers = () => (env as unknown as { SITE_PUBLISHER: DurableObjectNamespace }).SITE_PUBLISHER;

/** What a site's publisher says it is doing (its GET). */
export async function publisherState(stub: DurableObjectStub): Promise<PublisherState> {
  return (await stub.fetch('https://site-publisher/state')).json();
}
