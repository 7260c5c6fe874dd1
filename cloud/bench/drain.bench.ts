import { mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { cpuUsage } from 'node:process';
import { createApp } from '../src/api/app.ts';
import { ensureBootstrapAdmin } from '../src/auth/tokens.ts';
import { openDatabase } from '../src/db/client.ts';
import { loadSigner } from '../src/keys/signing.ts';
import { nodeEd25519 } from '../src/keys/ed25519-node.ts';
import { startEmbeddedBroker } from '../src/mqtt/broker.ts';
import { startPublisher } from '../src/publisher/publisher.ts';
import { freshPostgres } from '../test/pg.test-support.ts';
import { bigSiteSpec } from './big-site.ts';
import { profiled } from './profiled.ts';
import { median, numberArg } from './figures.ts';

/**
 * `npm run bench:drain [-- --nodes N --rounds R]`: the drain alone — from the apply's response
 * until the publisher has every one of the site's documents acknowledged by the embedded aedes
 * (no subscribers: the broker only keeps them retained) — in the two ways an apply can reach the
 * publisher, alternating round by round on one database, broker and publisher: the rows handed
 * over by the apply (what `serve` does), and a kick that reads them back from the outbox (what a
 * publisher in another process, or one that lost the hand-off, does). Every node changes each
 * round. Prints the median wall and process CPU of each, side by side. With DATABASE_URL, on a
 * fresh PostgreSQL database beside it (dropped at the end) instead of PGlite. `--cpu-prof=DIR`: a
 * CPU profile of the last round's drain of handed-over rows, written to DIR and summarised.
 */
const N = numberArg('nodes', 1000);
const ROUNDS = numberArg('rounds', 7);
const SITE = 'bench';
const PROF_DIR = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);

const f = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  const db = await openDatabase({ url: pg?.url });
  const session = PROF_DIR ? new Session() : null;
  if (PROF_DIR) mkdirSync(PROF_DIR, { recursive: true });
  session?.connect();
  await session?.post('Profiler.enable');
  const broker = await startEmbeddedBroker({ port: 0, db: db.db });
  const signer = await loadSigner(db.db, { ed25519: nodeEd25519() }); // as `lvsfleet serve` signs
  const admin = await ensureBootstrapAdmin(db.db);
  let published: ((n: number) => void) | null = null;
  const publisher = await startPublisher({
    db: db.db,
    mqttUrl: broker.url,
    ...broker.internal,
    signer,
    // No poll during a round: only the apply's hand-off or kick starts a drain.
    pollMs: 3_600_000,
    log: (line) => {
      const m = /published (\d+) desired/.exec(line);
      if (m) published?.(Number(m[1]));
    },
  });
  const apps = {
    'handed over': createApp({
      db: db.db,
      kick: (after) => (after?.handedOff ? undefined : publisher.kick()),
      handoff: (rows) => publisher.handoff(rows),
      signer,
    }),
    'read back': createApp({ db: db.db, kick: () => publisher.kick(), signer }),
  };
  const figures = new Map<string, { wall: number[]; cpu: number[] }>(Object.keys(apps).map((k) => [k, { wall: [], cpu: [] }]));
  try {
    // Round 0 creates every node (and warms up); not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const [mode, app] of Object.entries(apps)) {
        let count = 0;
        const all = new Promise<void>((resolve) => {
          published = (n) => {
            count += n;
            if (count >= N) resolve();
          };
        });
        const res = await app.request(`/v1/sites/${SITE}/spec`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${admin.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify(bigSiteSpec(SITE, N, { vipBase: 10 + ((2 * round + (mode === 'read back' ? 1 : 0)) % 4) * 10 })),
        });
        const c0 = cpuUsage();
        const t0 = performance.now();
        const out = (await res.json()) as { publishedNodes?: string[] };
        if (res.status !== 200 || out.publishedNodes?.length !== N) throw new Error(`apply: HTTP ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
        const profile = PROF_DIR && round === ROUNDS && mode === 'handed over' ? join(PROF_DIR, 'drain.cpuprofile') : null;
        await (profile ? profiled(session, profile, () => all, 25) : all);
        const t1 = performance.now();
        const c = cpuUsage(c0);
        if (round === 0) continue;
        figures.get(mode)!.wall.push(t1 - t0);
        figures.get(mode)!.cpu.push((c.user + c.system) / 1000);
      }
    }
  } finally {
    await publisher.close();
    await broker.close();
    await db.close();
    await pg?.drop();
  }
  console.log(
    `bench:drain: ${N}-node site, every node changed, ${ROUNDS} rounds of each (median), embedded aedes without subscribers, ${pg ? 'PostgreSQL' : 'PGlite'}, Node ${process.version}`,
  );
  for (const [mode, x] of figures)
    console.log(`  ${mode.padEnd(12)} apply response → every document acknowledged: wall ${f(median(x.wall))} ms, process CPU ${f(median(x.cpu))} ms`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:drain failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
