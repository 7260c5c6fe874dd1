import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { openDatabase } from '../src/db/client.ts';
import { events, orgs, sites, webhooks } from '../src/db/schema.ts';
import { enqueueDeliveries } from '../src/alerts/queue.ts';
import { startSender } from '../src/alerts/sender.ts';
import { newWebhookSecret } from '../src/alerts/standard-webhooks.ts';
import { webhookFetch } from '../src/alerts/webhook-transport.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { numberArg } from './figures.ts';

/**
 * `npm run bench:webhook-send [-- --deliveries N]`: how fast the Node process sends a webhook's
 * backlog, on a fresh PostgreSQL database (DATABASE_URL) or PGlite. Queues N info deliveries
 * (default 2,000: a large apply's `apply.succeeded` events for a webhook that takes every event) and
 * then one critical alert, for one webhook whose receiver answers on loopback, then starts the
 * sender and prints how long until the critical alert arrived and until the backlog was sent,
 * beside the floor: the same number of signed-size POSTs to the same receiver from one loop, no
 * database. Before the sender, a round (every 2 s) claimed and sent 20. No assertions on time.
 */
const N = numberArg('deliveries', 2_000);

async function main(): Promise<void> {
  const received: { at: number; type: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ at: performance.now(), type: (JSON.parse(body) as { type?: string }).type ?? '' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const fetchAny = webhookFetch({ allowPrivate: true });
  const pg = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  const db = await openDatabase({ url: pg?.url });
  try {
    // The floor: N posts of a delivery's size, one after another, through the same sender's transport.
    const body = JSON.stringify({ type: 'apply.succeeded', timestamp: new Date().toISOString(), data: { revision: 1, pad: 'x'.repeat(300) } });
    const f0 = performance.now();
    for (let i = 0; i < N; i++)
      await fetchAny(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
    const floorMs = performance.now() - f0;
    received.length = 0;

    await db.db.insert(orgs).values({ id: 'o', name: 'o' });
    await db.db.insert(sites).values({ id: 's', orgId: 'o', name: 'big', currentRevision: 1 });
    await db.db.insert(webhooks).values({ id: 'w', orgId: 'o', url, secret: newWebhookSecret() });
    const rows = Array.from({ length: N }, (_, i) => ({ siteId: 's', nodeId: `big.n${i}`, type: 'apply.succeeded', data: { revision: 1 }, at: new Date() }));
    for (let i = 0; i < rows.length; i += 2000) await db.db.insert(events).values(rows.slice(i, i + 2000));
    await db.db.insert(events).values({
      siteId: 's',
      nodeId: null,
      type: 'site.split_brain',
      data: { key: 'site.split_brain|vrrp:VI_1', subject: 'vrrp:VI_1', severity: 'critical', summary: 'both MASTER' },
      at: new Date(),
    });
    const queued = await enqueueDeliveries(db.db);
    if (queued !== N + 1) throw new Error(`queued ${queued}, not ${N + 1}`);

    const t0 = performance.now();
    const sender = startSender({ db: db.db, fetch: fetchAny, now: () => new Date(), timeoutMs: 10_000, intervalMs: 3_600_000 });
    await sender.tick();
    const drainMs = performance.now() - t0;
    await sender.close();
    if (received.length !== N + 1) throw new Error(`received ${received.length}, not ${N + 1}`);
    const critical = received.findIndex((r) => r.type === 'site.split_brain');
    console.log(
      [
        `bench:webhook-send: ${N} info deliveries then a critical one for one webhook, a receiver on loopback, ${pg ? 'PostgreSQL' : 'PGlite'}, Node ${process.version}`,
        `  the critical alert: ${critical === 0 ? 'the first' : `number ${critical + 1}`} to arrive, ${(received[critical].at - t0).toFixed(0)} ms after the sender started`,
        `  the backlog sent in ${(drainMs / 1000).toFixed(2)} s, ${((N + 1) / (drainMs / 1000)).toFixed(0)} deliveries/s (signed, each marked in the database)`,
        `    beside it, the floor: ${N} posts from one loop, no database, ${(floorMs / 1000).toFixed(2)} s, ${(N / (floorMs / 1000)).toFixed(0)}/s`,
        `    before this sender, a round every 2 s claimed and sent 20: 10 deliveries/s at most, ${((N + 1) / 10).toFixed(0)} s for this backlog, the critical one last`,
        `  load average: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      ].join('\n'),
    );
  } finally {
    server.close();
    await db.close();
    await pg?.drop();
  }
}

await main();
