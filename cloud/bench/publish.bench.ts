/**
 * npm run bench:publish — apply a site of 1,000 nodes through the API and time how long each
 * node's document takes from the start of the apply request to its receipt by that node's
 * subscriber, 1,000 subscribers living in a second process. Run on the embedded aedes and on a
 * Mosquitto this benchmark starts itself (own port, anonymous, no persistence), stopped by PID.
 * Prints p50/p99/max. Ends by itself (hard limit 4 minutes).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/api/app.ts';
import { ensureBootstrapAdmin } from '../src/auth/tokens.ts';
import { openDatabase } from '../src/db/client.ts';
import { loadSigner } from '../src/keys/signing.ts';
import { startEmbeddedBroker } from '../src/mqtt/broker.ts';
import { startPublisher } from '../src/publisher/publisher.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { MOSQUITTO_BIN, OwnMosquitto } from '../test/mosquitto.test-support.ts';
import { bigSiteSpec } from './big-site.ts';

const N = Number(process.env.BENCH_NODES ?? 1000);
const SITE = 'bench';
const hardStop = setTimeout(() => {
  console.error('bench:publish: hard time limit reached, stopping');
  process.exit(1);
}, 240_000);
hardStop.unref();

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(
  label: string,
  broker: { url: string; username?: string; password?: string; close(): Promise<void> },
  db: Awaited<ReturnType<typeof openDatabase>>,
): Promise<void> {
  const signer = await loadSigner(db.db);
  const admin = await ensureBootstrapAdmin(db.db);
  const publisher = await startPublisher({ db: db.db, mqttUrl: broker.url, username: broker.username, password: broker.password, signer });
  const app = createApp({ db: db.db, kick: () => publisher.kick(), signer });
  const apply = async (vipBase: number) =>
    app.request(`/v1/sites/${SITE}/spec`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(bigSiteSpec(SITE, N, { vipBase })),
    });

  const spec = bigSiteSpec(SITE, N) as { spec: { nodes: { name: string }[] } };
  const nodeIds = spec.spec.nodes.map((n) => nodeIdOf(SITE, n.name));
  const child = fork(fileURLToPath(new URL('./subscribers.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const on = (m: any) => {
        if (m.type === 'error') reject(new Error(m.message));
        if (m.type === type) {
          child.off('message', on);
          resolve(m);
        }
      };
      child.on('message', on);
    });
  try {
    const t0c = Date.now();
    child.send({ type: 'start', start: { url: broker.url, username: broker.username, password: broker.password, nodeIds, keys: await signer.publicJwks() } });
    const ready = await next('ready');
    console.log(`[${label}] ${ready.clients} subscribers connected in the child process (${Date.now() - t0c} ms)`);

    // Round 2 moves every VIP, so every node's compiled config changes and is published again.
    for (const [round, vipBase] of [
      ['first apply (every node new)', 10],
      ['second apply (every VIP moved)', 50],
    ] as const) {
      child.send({ type: 'await', revision: round.startsWith('first') ? 1 : 2 });
      const done = next('done');
      const t0 = performance.timeOrigin + performance.now();
      const res = await apply(vipBase);
      const t1 = performance.timeOrigin + performance.now();
      if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { revision: number; publishedNodes: string[] };
      if (body.publishedNodes.length !== N) throw new Error(`apply published ${body.publishedNodes.length} of ${N} nodes`);
      const result = await Promise.race([
        done,
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('not every subscriber got its document within 90 s')), 90_000)),
      ]);
      const rows = result.received as [string, { at: number; ok: boolean; detail?: string }][];
      const bad = rows.filter(([, r]) => !r.ok);
      if (bad.length) throw new Error(`${bad.length} subscriber(s) got a wrong document, e.g. ${bad[0][0]}: ${bad[0][1].detail}`);
      const lat = rows.map(([, r]) => r.at - t0).sort((a, b) => a - b);
      const after = rows.map(([, r]) => r.at - t1).sort((a, b) => a - b);
      console.log(
        `[${label}] ${round}: revision ${body.revision}, ${body.publishedNodes.length} outbox rows, apply request ${(t1 - t0).toFixed(0)} ms; ` +
          `apply→receipt over ${lat.length} nodes: p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms, max ${lat[lat.length - 1].toFixed(0)} ms; ` +
          `apply response→receipt (sign + publish + fan-out): p50 ${pct(after, 50).toFixed(0)} ms, p99 ${pct(after, 99).toFixed(0)} ms, max ${after[after.length - 1].toFixed(0)} ms`,
      );
    }
  } finally {
    child.send({ type: 'stop' });
    await new Promise((r) => child.once('exit', r));
    await publisher.close();
    await broker.close();
  }
}

async function main(): Promise<void> {
  console.log(`bench:publish: ${N} nodes, subscribers in a second process, Node ${process.version}`);
  {
    const db = await openDatabase({});
    const b = await startEmbeddedBroker({ port: 0, db: db.db });
    await run('aedes (embedded) + PGlite', { url: b.url, ...b.internal, close: () => b.close() }, db);
    await db.close();
  }
  if (!MOSQUITTO_BIN) console.log('[mosquitto] skipped: mosquitto is not installed');
  else {
    const db = await openDatabase({});
    const m = await OwnMosquitto.create(() => 'allow_anonymous true\nmax_queued_messages 10000');
    await m.start();
    await run(`mosquitto (own instance on 127.0.0.1:${m.port}, anonymous) + PGlite`, { url: m.url, close: () => m.dispose() }, db);
    await db.close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:publish failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
