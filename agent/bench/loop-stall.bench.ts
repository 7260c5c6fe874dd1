/**
 * `npm run bench:loop-stall`: how long a director's agent holds its event loop while it takes a
 * document. VRRP adverts and BFD transmissions are timers on that loop: while it is held, none goes
 * out, and a peer that hears nothing for its detection time takes the VIPs. A 1 ms interval timer is
 * the probe; the figure is the longest gap between two of its runs.
 *
 * For the director of bench:publish's 1,000-node and 10,000-node sites (cloud/bench/big-site.ts;
 * documents of about 0.47 and 4.7 MB), six revisions each changing one real server's weight, the
 * first a warm-up: the intake (`Intake.receive`: signature, parse, schema, the fsynced cache) and
 * then the engine's apply (`Engine.apply` on the dry-run dataplane, whose kernel model is
 * synchronous: on Linux `ipvsadm` runs as a child, a turn of the loop) with the status it then
 * publishes: its file, and, as a cloud-mode agent sends it, over the agent's MQTT link to a
 * Mosquitto this benchmark starts (own port, stopped by PID; without Mosquitto installed the status
 * is not sent, and the line says so). The floor, measured first in the same process, is the
 * probe's longest gap with nothing to do. Printed beside BFD's detection times: 250 ms for the pair
 * session's default (50 ms × 5), 50 ms for 10 ms × 5. No assertions.
 *   --nodes LIST   site sizes, comma-separated (default 1000,10000)
 *   --revisions N  revisions per size after the warm-up (default 5)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileSite } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { bigSiteSpec } from '../../cloud/bench/big-site.ts';
import { MOSQUITTO_BIN, OwnMosquitto } from '../../cloud/test/mosquitto.test-support.ts';
import { startMqttLink, type MqttLink } from '../src/cloud/mqtt-link.ts';
import { createDryRunDataplane } from '../src/dataplane/dry-run.ts';
import { Engine } from '../src/engine/engine.ts';
import { signDoc, testKey } from '../src/intake/keys.test-support.ts';
import { Intake } from '../src/intake/intake.ts';
import { statePaths } from '../src/state/paths.ts';

const { values: opt } = parseArgs({
  options: { nodes: { type: 'string', default: '1000,10000' }, revisions: { type: 'string', default: '5' } },
});
const SIZES = opt.nodes.split(',').map(Number);
const REVISIONS = Number(opt.revisions);

/** The probe: the longest gap between runs of a 1 ms interval timer since the last `reset()`. */
function probe() {
  let last = performance.now();
  let longest = 0;
  const t = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    reset() {
      last = performance.now();
      longest = 0;
    },
    get longest() {
      return longest;
    },
    stop: () => clearInterval(t),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} / ${Math.max(...xs).toFixed(1)}`;

/** The site's first director's documents: revision r sets rs1's weight to r. */
async function directorDocs(n: number, key: Awaited<ReturnType<typeof testKey>>): Promise<{ nodeId: string; docs: string[] }> {
  const docs: string[] = [];
  let nodeId = '';
  for (let revision = 1; revision <= REVISIONS + 1; revision++) {
    const v = validateSite(bigSiteSpec('big', n, { rs1Weight: revision }));
    if (!v.ok) throw new Error(`the bench site is invalid: ${JSON.stringify(v.issues[0])}`);
    const [name, config] = [...compileSite(v.site)].find(([, c]) => c.node.role === 'director')!;
    nodeId = nodeIdOf('big', name);
    docs.push(await signDoc(key, { nodeId, site: 'big', revision, issuedAt: new Date().toISOString(), config }));
  }
  return { nodeId, docs };
}

async function main(): Promise<void> {
  const p = probe();
  await sleep(2000);
  console.log(
    `bench:loop-stall: the longest gap of a 1 ms timer (median / max over ${REVISIONS} revisions, ms), beside BFD's detection times: 250 (the pair default, 50 ms × 5) and 50 (10 ms × 5)`,
  );
  console.log(`floor: the probe alone for 2 s, nothing else to do: ${p.longest.toFixed(1)} ms`);
  const key = await testKey();
  const broker = MOSQUITTO_BIN ? await OwnMosquitto.create(() => 'allow_anonymous true') : null;
  await broker?.start();
  console.log(
    broker
      ? `the engine's status goes over the agent's MQTT link to Mosquitto on ${broker.url}, as a cloud-mode agent's does`
      : "Mosquitto is not installed: the engine's status is built and written to its file, not sent over MQTT",
  );
  try {
    for (const n of SIZES) await director(n, key, broker, p);
  } finally {
    await broker?.dispose();
  }
  p.stop();
}

/** One site size's rows: the intake and the apply of its director's documents. */
async function director(n: number, key: Awaited<ReturnType<typeof testKey>>, broker: OwnMosquitto | null, p: ReturnType<typeof probe>): Promise<void> {
  const { nodeId, docs } = await directorDocs(n, key);
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-bench-stall-'));
  const quiet = () => {};
  const intake = new Intake({
    nodeId,
    keys: [key.pub],
    paths: statePaths(dir),
    log: quiet,
    onReject: (r) => {
      throw new Error(`the bench's document was refused: ${r.why}: ${r.detail}`);
    },
  });
  let link: MqttLink | null = null;
  if (broker) {
    link = startMqttLink({ url: broker.url, username: nodeId, password: 'x', nodeId, onDesired: async () => {}, log: quiet });
    while (!link.connected()) await sleep(10);
  }
  const engine = new Engine({
    nodeId,
    stateDir: dir,
    log: quiet,
    dataplane: createDryRunDataplane(quiet),
    verifyIntervalMs: 3_600_000,
    onStatus: (s) => link?.publishStatus(s),
  });
  const rows = { intake: [] as number[], apply: [] as number[], intakeWall: [] as number[], applyWall: [] as number[] };
  try {
    for (const [i, jws] of docs.entries()) {
      await sleep(50);
      p.reset();
      const t0 = performance.now();
      const claims = await intake.receive(jws);
      const t1 = performance.now();
      if (!claims) throw new Error(`revision ${i + 1} was not taken`);
      await sleep(5); // the probe's last gap of the intake, measured before the apply starts
      const stallIntake = p.longest;
      p.reset();
      const t2 = performance.now();
      const outcome = await engine.apply(claims.config, claims.revision);
      const t3 = performance.now();
      await engine.idle(); // the status it publishes after the apply, and its file
      await sleep(5); // and the link's send, a turn later
      if (!outcome.ok) throw new Error(`revision ${claims.revision}: ${outcome.errors.join('; ')}`);
      if (i === 0) continue; // the warm-up
      rows.intake.push(stallIntake);
      rows.apply.push(p.longest);
      rows.intakeWall.push(t1 - t0);
      rows.applyWall.push(t3 - t2);
    }
  } finally {
    await engine.stop();
    await link?.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `${n.toLocaleString('en')}-node site's director (${(docs[0].length / 1e6).toFixed(2)} MB document): longest gap in the intake ${fmt(rows.intake)} ms (its wall ${fmt(rows.intakeWall)}), in the apply and its status ${fmt(rows.apply)} ms (the apply's wall ${fmt(rows.applyWall)})`,
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:loop-stall failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
