import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startBfd, type BfdChange, type BfdDriver } from './driver.ts';

// Two drivers on loopback addresses of their own (127.0.0.0/8 is all local on Linux), on a
// random port so parallel runs do not meet.
const net = `127.${randomInt(1, 250)}.${randomInt(1, 250)}`;
const A = `${net}.1`;
const B = `${net}.2`;
const port = randomInt(20_000, 40_000);
const session = (name: string, local: string, peer: string) => ({ name, local, peer, minTxMs: 20, minRxMs: 20, multiplier: 3 });

const running: BfdDriver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

async function driver(local: string, peer: string, changes: BfdChange[]): Promise<BfdDriver> {
  const d = await startBfd([session('B1', local, peer)], { onChange: (c) => changes.push(c), port });
  running.push(d);
  return d;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function sendFrom(address: string, bytes: Buffer, to: string): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address, port: 0 }, () => r()));
  await new Promise<void>((r, j) => s.send(bytes, port, to, (e) => (e ? j(e) : r())));
  await new Promise<void>((r) => s.close(() => r()));
}

describe('BFD driver over UDP on loopback', () => {
  it('brings a session Up, polls down to the configured rate, and signals AdminDown both ways', async () => {
    const ca: BfdChange[] = [];
    const cb: BfdChange[] = [];
    const da = await driver(A, B, ca);
    const db = await driver(B, A, cb);
    await until(() => da.status()[0].state === 'Up' && db.status()[0].state === 'Up', 'both Up');
    await until(() => da.status()[0].txIntervalMs === 20 && db.status()[0].detectionTimeMs === 60, 'the 20 ms rate after the poll');
    expect(ca.map((c) => c.to)).toEqual(expect.arrayContaining(['Up']));

    db.adminDown('B1');
    await until(() => da.status()[0].state === 'Down', 'a Down after b AdminDown');
    expect(ca.at(-1)).toMatchObject({ to: 'Down', diag: 3, peer: B });
    expect(db.status()[0].state).toBe('AdminDown');
    db.adminUp('B1');
    await until(() => da.status()[0].state === 'Up' && db.status()[0].state === 'Up', 'both Up again');

    // Stopping is graceful: the peer hears AdminDown (diag 3), not a timeout (diag 1).
    await db.stop();
    await until(() => da.status()[0].state === 'Down', 'a Down after b stopped');
    expect(ca.at(-1)).toMatchObject({ to: 'Down', diag: 3 });
  });

  it('counts malformed packets and strangers without touching the session', async () => {
    const ca: BfdChange[] = [];
    const da = await driver(A, B, ca);
    await sendFrom(B, Buffer.from('20400518', 'hex'), A);
    await sendFrom(B, Buffer.from('20400018c32e704b00000000000f42400000271000000000', 'hex'), A);
    // A well-formed Down packet, but from an address that is no session's peer.
    await sendFrom(`${net}.3`, Buffer.from('20400518c32e704b00000000000f42400000271000000000', 'hex'), A);
    // Addressed to a discriminator that is not ours.
    await sendFrom(B, Buffer.from('20800518c32e704b7a7b88fb000f42400000271000000000', 'hex'), A);
    await until(() => Object.values(da.drops()).reduce((x, y) => x + y, 0) === 4, 'four drops');
    expect(da.drops()).toMatchObject({ short: 1, 'detect-mult': 1, 'unknown-peer': 1, discriminator: 1 });
    expect(ca).toEqual([]);
    expect(da.status()[0]).toMatchObject({ state: 'Down', remoteState: 'Down' });
  });

  it('update: new timers keep the session Up; a removed session tells its peer; an added one comes Up', async () => {
    const ca: BfdChange[] = [];
    const cb: BfdChange[] = [];
    const da = await driver(A, B, ca);
    const db = await driver(B, A, cb);
    await until(() => da.status()[0].state === 'Up' && db.status()[0].state === 'Up', 'both Up');
    const downsBefore = ca.filter((c) => c.to === 'Down').length;

    await da.update([{ ...session('B1', A, B), minTxMs: 40, minRxMs: 40 }]);
    await until(() => da.status()[0].txIntervalMs === 40 && db.status()[0].detectionTimeMs === 120, 'the 40 ms rate after the poll');
    expect(ca.filter((c) => c.to === 'Down').length).toBe(downsBefore);

    await da.update([]);
    expect(da.status()).toEqual([]);
    await until(() => db.status()[0].state === 'Down', 'b Down after a removed its session');
    expect(cb.at(-1)).toMatchObject({ to: 'Down', diag: 3 });

    await da.update([session('B2', A, B)]);
    await until(() => da.status()[0]?.state === 'Up' && db.status()[0].state === 'Up', 'Up again under a new name');
    expect(ca.at(-1)).toMatchObject({ name: 'B2', to: 'Up' });
    await expect(da.update([session('B2', A, B), session('B3', A, B)])).rejects.toThrow(/two BFD sessions/);
  });
});
