/**
 * Child process of publish.bench.ts: one MQTT client per node, each subscribed to its own
 * desired topic (or, for the 10,000-node rows, one client per `perClient` nodes, subscribed to
 * each of their topics: ten thousand connections would measure this process, not the cloud). Reports to the parent (IPC) when all are subscribed, then each node's receipt
 * time of the first document of the awaited revision, checked against the signing keys: `done`
 * once every expected node has one, and on `collect` every node that got one (to find documents
 * sent to nodes that should not have had one).
 *
 * A receipt is timed when its bytes arrive; its signature is checked once every expected node
 * has one, before `done` is sent. In a fleet each node checks its own document on its own CPU;
 * here one process would check 1,000 in turn (260-350 ms of CPU on this 2-core machine, half of
 * it on libuv's threads), on the same cores as the broker and the cloud, and every check would
 * delay the receipts after it: the figures would measure this process more than the broker.
 * The revision is read from the payload unchecked only to skip older retained documents; a
 * document that fails the check later still counts as received, and fails the run.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { topics } from '#shared/wire/topics.ts';
import { unverifiedClaims } from '../test/jws.test-support.ts';

interface Start {
  url: string;
  username?: string;
  password?: string;
  nodeIds: string[];
  keys: JWK[];
  perClient?: number;
}
type FromParent = { type: 'start'; start: Start } | { type: 'await'; revision: number; expect?: string[] } | { type: 'collect' } | { type: 'stop' };
interface Receipt {
  at: number;
  ok: boolean;
  detail?: string;
}

const send = (m: unknown) => process.send!(m);
const clients: MqttClient[] = [];
let awaited = Number.POSITIVE_INFINITY;
/** Each node's receipt of the awaited revision: checked once every expected node has one. */
const received = new Map<string, Receipt>();
/** Receipts whose signature is not checked yet, with their bytes. */
const unchecked = new Map<string, string>();
let keys: ReturnType<typeof createLocalJWKSet>;
let expected = new Set<string>();
let allNodes: string[] = [];
let doneSent = false;

/** The revision a compact JWS's payload names, unchecked; undefined when it names none. */
function revisionOf(jws: string): number | undefined {
  const { revision } = unverifiedClaims(jws) ?? {};
  return typeof revision === 'number' ? revision : undefined;
}

function onMessage(nodeId: string, payload: Buffer): void {
  const at = performance.timeOrigin + performance.now();
  if (received.has(nodeId)) return;
  const jws = payload.toString();
  let revision: number | undefined;
  try {
    revision = revisionOf(jws);
  } catch {
    // Not a JWS with a JSON payload: received, and the check below says what is wrong.
  }
  if (revision !== undefined && revision < awaited) return;
  received.set(nodeId, { at, ok: false, detail: 'not checked yet' });
  unchecked.set(nodeId, jws);
  if (!doneSent && [...expected].every((n) => received.has(n))) {
    doneSent = true;
    void checkAll().then(() => send({ type: 'done', received: [...received].filter(([n]) => expected.has(n)) }));
  }
}

/** Checks every unchecked receipt's signature and node id, in place. */
async function checkAll(): Promise<void> {
  const batch = [...unchecked];
  unchecked.clear();
  await Promise.all(
    batch.map(async ([nodeId, jws]) => {
      const r = received.get(nodeId)!;
      try {
        const { payload: body } = await compactVerify(jws, keys);
        const claims = JSON.parse(new TextDecoder().decode(body)) as { nodeId: string; revision: number };
        r.ok = claims.nodeId === nodeId;
        r.detail = r.ok ? undefined : `got ${claims.nodeId}`;
      } catch (err) {
        r.ok = false;
        r.detail = (err as Error).message;
      }
    }),
  );
}

async function start(s: Start): Promise<void> {
  keys = createLocalJWKSet({ keys: s.keys });
  allNodes = s.nodeIds;
  const per = Math.max(1, s.perClient ?? 1);
  const groups = Array.from({ length: Math.ceil(s.nodeIds.length / per) }, (_, i) => s.nodeIds.slice(i * per, (i + 1) * per));
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++];
      const c = await mqtt.connectAsync(s.url, {
        clientId: `bench-${group[0]}-${process.pid}`,
        username: s.username,
        password: s.password,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        keepalive: 120,
      });
      // lvsfleet/v1/nodes/{nodeId}/desired
      c.on('message', (t, p) => onMessage(t.split('/')[3], p));
      await c.subscribeAsync(
        group.map((n) => topics.desired(n)),
        { qos: 1 },
      );
      clients.push(c);
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  send({ type: 'ready', clients: clients.length });
}

// The bench that forked this process is gone (its time limit, a crash): so is the reason to run.
process.on('disconnect', () => process.exit(1));

process.on('message', (m: FromParent) => {
  if (m.type === 'start') start(m.start).catch((err: Error) => send({ type: 'error', message: err.message }));
  else if (m.type === 'await') {
    awaited = m.revision;
    expected = new Set(m.expect ?? allNodes);
    doneSent = false;
    received.clear();
    unchecked.clear();
  } else if (m.type === 'collect') {
    void checkAll().then(() => send({ type: 'collected', received: [...received] }));
  } else if (m.type === 'stop') {
    void Promise.all(clients.map((c) => c.endAsync(true).catch(() => {}))).then(() => process.exit(0));
  }
});
