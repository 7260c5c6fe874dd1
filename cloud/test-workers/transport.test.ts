import type { IClientOptions, MqttClient } from 'mqtt';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { createPublishLink } from '../src/mqtt/link.ts';
import { socketMqttConnect } from '../src/workers/mqtt-socket.ts';
import { webSocketMqttConnect } from '../src/workers/mqtt-websocket.ts';
import { workerMqttConnect } from '../src/workers/mqtt-transport.ts';

const brokers = JSON.parse(inject('workersTransportBrokers')) as { name: string; tcpUrl: string; wsUrl: string }[];
const N = 1000;
/** About a signed desired document of a director with a few services. */
const PAYLOAD_BYTES = 2048;
const WARMUP = 50;

type Connect = (url: string, options: IClientOptions) => MqttClient;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const payloadFor = (i: number) => `${String(i).padStart(6, '0')}:`.padEnd(PAYLOAD_BYTES, 'x');

/** The retained messages under `prefix/#` a fresh subscriber over `connect` gets: topic → payload. */
async function retained(connect: Connect, url: string, prefix: string, expected: number): Promise<Map<string, string>> {
  const c = connect(url, { clientId: `transport-sub-${crypto.randomUUID().slice(0, 8)}`, reconnectPeriod: 0, clean: true });
  const got = new Map<string, string>();
  try {
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    const all = new Promise<void>((resolve) =>
      c.on('message', (topic, payload, packet) => {
        if (packet.retain) got.set(topic, payload.toString());
        if (got.size >= expected) resolve();
      }),
    );
    await c.subscribeAsync(`${prefix}/#`, { qos: 1 });
    // The timer is cleared: one left pending fires in a later file, and workerd refuses to settle
    // a promise of another file's context ("I/O on behalf of a different Durable Object").
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    return got;
  } finally {
    await c.endAsync(true).catch(() => {});
  }
}

/** Publishes N retained QoS 1 documents one after another (as a site's drain does), then N at once. */
async function measure(broker: string, transport: string, url: string, connect: Connect) {
  const run = crypto.randomUUID().slice(0, 8);
  const link = createPublishLink({ url, clientIdPrefix: `transport-${transport}`, connect, timeoutMs: 10_000 });
  try {
    const c0 = performance.now();
    expect(await link.ensure(), `${transport} to ${url}: ${link.lastError}`).toBe(true);
    const connectMs = performance.now() - c0;
    for (let i = 0; i < WARMUP; i++) await link.publish(`transport-test/${run}/warmup/${i}`, payloadFor(i), { retain: false });
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const p0 = performance.now();
      await link.publish(`transport-test/${run}/seq/${i}`, payloadFor(i), { retain: true });
      lat.push(performance.now() - p0);
    }
    const seqMs = performance.now() - t0;
    const t1 = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => link.publish(`transport-test/${run}/all/${i}`, payloadFor(i), { retain: true })));
    const allMs = performance.now() - t1;
    lat.sort((a, b) => a - b);
    // Every document is on the broker, retained, with its own payload: a new subscriber gets them all.
    for (const part of ['seq', 'all']) {
      const got = await retained(connect, url, `transport-test/${run}/${part}`, N);
      expect(got.size, `${broker} ${transport} ${part}: retained documents`).toBe(N);
      for (const [topic, payload] of got) expect(payload).toBe(payloadFor(Number(topic.split('/').at(-1))));
    }
    return { broker, transport, connectMs, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[N - 1], seqMs, allMs };
  } finally {
    await link.close();
  }
}

describe('the Worker’s MQTT transports: raw TCP through connect() and MQTT over WebSocket', () => {
  it('chooses the adapter by the URL’s scheme and names the field on anything else', () => {
    expect(() => workerMqttConnect('http://127.0.0.1:1/', {})).toThrow(/MQTT_URL.*not http:/);
    expect(() => socketMqttConnect('ws://127.0.0.1:1/', {})).toThrow(/not ws:/);
    expect(() => webSocketMqttConnect('mqtt://127.0.0.1:1', {})).toThrow(/not mqtt:/);
  });

  it(
    'the raw-socket client reconnects after the broker closes on it and resets its next packet, and that publish goes through',
    { timeout: 30_000 },
    async () => {
      const c = socketMqttConnect(inject('workersResettingMqttUrl'), { clientId: `reset-${crypto.randomUUID().slice(0, 8)}`, reconnectPeriod: 200 });
      let closes = 0;
      c.on('close', () => closes++);
      try {
        // The first publish gets the proxy to close its side; the second, sent once that FIN is in,
        // meets a closed socket and a reset.
        const topic = `transport-test/reset/${crypto.randomUUID().slice(0, 8)}`;
        const published = new Promise<unknown>((resolve, reject) => {
          c.once('connect', () => {
            const first = c.publishAsync(topic, 'kick', { qos: 1 });
            setTimeout(() => {
              Promise.all([first, c.publishAsync(topic, 'after the reset', { qos: 1 })]).then(resolve, reject);
            }, 50);
          });
          c.once('error', reject);
        });
        // Polled, not raced with a timer: a timer left behind rejects after the file ends.
        let outcome: { err?: unknown } | undefined;
        published.then(
          () => (outcome = {}),
          (err: unknown) => (outcome = { err }),
        );
        await waitFor(() => outcome, { timeoutMs: 15_000, what: 'both PUBACKs' });
        if (outcome?.err) throw outcome.err;
        expect(closes, 'the closed connection was seen as a close, and both PUBACKs came over the new one').toBe(1);
        expect(c.connected).toBe(true);
      } finally {
        await c.endAsync(true).catch(() => {});
      }
    },
  );

  for (const b of brokers)
    it(`${b.name}: ${N} retained QoS 1 documents over each transport reach the broker (p50/p99 printed side by side)`, { timeout: 180_000 }, async () => {
      const rows = [];
      // Each transport twice, interleaved, so neither always runs on a colder or busier machine.
      for (let round = 0; round < 2; round++) {
        rows.push(await measure(b.name, 'tcp-connect()', b.tcpUrl, socketMqttConnect));
        rows.push(await measure(b.name, 'websocket', b.wsUrl, webSocketMqttConnect));
      }
      // workerd's clock advances only across I/O, in whole milliseconds: sub-millisecond figures read 0 or 1.
      const f = (x: number) => x.toFixed(0);
      console.log(
        [
          `transport figures, ${b.name}, ${N} documents of ${PAYLOAD_BYTES} B, retained QoS 1, publish→PUBACK from workerd:`,
          ...rows.map(
            (r) =>
              `  ${r.transport.padEnd(14)} connect ${f(r.connectMs)} ms; one after another: p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms, max ${f(r.max)} ms, all ${r.seqMs.toFixed(0)} ms; ` +
              `all in flight at once: ${r.allMs.toFixed(0)} ms`,
          ),
        ].join('\n'),
      );
    });
});
