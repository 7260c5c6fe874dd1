import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedWithin } from './connected.ts';

const servers: Server[] = [];
const sockets: Socket[] = [];
const brokers: Aedes[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const b of brokers.splice(0)) await new Promise<void>((r) => b.close(() => r()));
});

/** A loopback broker (aedes) that leaves the first `silent` connections unanswered; counts every connection. */
async function broker(silent: number, authenticate?: (user: string | undefined) => boolean): Promise<{ url: string; connections: () => number }> {
  const aedes = await Aedes.createBroker({
    authenticate: (_c, user, _p, done) =>
      !authenticate || authenticate(user) ? done(null, true) : done(Object.assign(new Error('bad login'), { returnCode: 4 }) as never, false),
  });
  brokers.push(aedes);
  let n = 0;
  const server = createServer((socket) => {
    sockets.push(socket);
    if (n++ < silent) return; // accepted, never a CONNACK
    aedes.handle(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => n };
}

// MQTT 3.1.1: aedes does not speak 5; a refusal is a CONNACK return code all the same.
const opts = { connectTimeout: 300, reconnectPeriod: 100 };

describe('connectedWithin', () => {
  it('waits out a CONNACK that never came and connects on the reconnect', async () => {
    const b = await broker(1);
    const client = await connectedWithin(mqtt.connect(b.url, { ...opts, clientId: 'slow-once' }), 10_000);
    expect(client.connected).toBe(true);
    expect(b.connections()).toBeGreaterThanOrEqual(2);
    await client.endAsync(true);
  });

  it('rejects a refusal the broker answered at once, without retrying it', async () => {
    const b = await broker(0, (user) => user === 'cloud');
    const err = await connectedWithin(mqtt.connect(b.url, { ...opts, clientId: 'intruder', username: 'intruder', password: 'x' }), 10_000).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(typeof (err as { code?: unknown }).code).toBe('number');
    expect((err as Error).message).not.toMatch(/gave up/);
  });

  it('gives up at the deadline when no try is answered, naming the last failure', async () => {
    const b = await broker(Number.POSITIVE_INFINITY);
    const client = mqtt.connect(b.url, { ...opts, clientId: 'never' });
    await expect(connectedWithin(client, 1_000)).rejects.toThrow(/connack timeout.*gave up after 1000 ms/);
    expect(b.connections()).toBeGreaterThanOrEqual(2);
    expect(client.disconnected || client.disconnecting).toBe(true);
  });
});
