/**
 * Child process of publish.bench.ts: one MQTT client per node, each subscribed to its own
 * desired topic (or, for the 10,000-node rows, one client per `perClient` nodes, subscribed to
 * each of their topics: ten thousand connections would measure this process, not the cloud). Reports to the parent (IPC) when all are subscribed, then each node's receipt
 * time of the first document of the awaited revision, checked against the signing keys: `done`
 * once every expected node has one, and on `collect` every node that got one (to find documents
 * sent to nodes that should not have had one).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { topics } from '#shared/wire/topics.ts';

interface Start {
  url: string;
  username?: string;
  password?: string;
  nodeIds: string[];
  keys: JWK[];
  perClient?: number;
}
type FromParent = { type: 'start'; start: Start } | { type: 'await'; revision: number; expect?: string[] } | { type: 'collect' } | { type: 'stop' };

const send = (m: unknown) => process.send!(m);
const clients: MqttClient[] = [];
let awaited = Number.POSITIVE_INFINITY;
const received = new Map<string, { at: number; ok: boolean; detail?: string }>();
let keys: ReturnType<typeof createLocalJWKSet>;
let expected = new Set<string>();
let allNodes: string[] = [];
let doneSent = false;

async function onMessage(nodeId: string, payload: Buffer): Promise<void> {
  const at = performance.timeOrigin + performance.now();
  if (received.has(nodeId)) return;
  try {
    const { payload: body } = await compactVerify(payload.toString(), keys);
    const claims = JSON.parse(new TextDecoder().decode(body)) as { nodeId: string; revision: number };
    if (claims.revision < awaited) return;
    received.set(nodeId, { at, ok: claims.nodeId === nodeId, detail: claims.nodeId === nodeId ? undefined : `got ${claims.nodeId}` });
  } catch (err) {
    received.set(nodeId, { at, ok: false, detail: (err as Error).message });
  }
  if (!doneSent && [...expected].every((n) => received.has(n))) {
    doneSent = true;
    send({ type: 'done', received: [...received].filter(([n]) => expected.has(n)) });
  }
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
      c.on('message', (t, p) => void onMessage(t.split('/')[3], p));
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

process.on('message', (m: FromParent) => {
  if (m.type === 'start') start(m.start).catch((err: Error) => send({ type: 'error', message: err.message }));
  else if (m.type === 'await') {
    awaited = m.revision;
    expected = new Set(m.expect ?? allNodes);
    doneSent = false;
    received.clear();
  } else if (m.type === 'collect') {
    send({ type: 'collected', received: [...received] });
  } else if (m.type === 'stop') {
    void Promise.all(clients.map((c) => c.endAsync(true).catch(() => {}))).then(() => process.exit(0));
  }
});
