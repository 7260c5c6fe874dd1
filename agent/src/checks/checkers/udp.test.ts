import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { udpCheck } from './udp.ts';

const sockets: dgram.Socket[] = [];
afterEach(() => sockets.splice(0).forEach((s) => s.close()));

async function udpServer(reply: (msg: Buffer) => Buffer | null): Promise<number> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  s.on('message', (m, r) => {
    const out = reply(m);
    if (out) s.send(out, r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s.address().port;
}

const run = (port: number, params: Record<string, unknown>, timeoutMs = 500) =>
  udpCheck(check({ type: 'udp', port, timeoutMs, params }), AbortSignal.timeout(timeoutMs));

describe('UDP checker against a real UDP server', () => {
  it('is up when the reply starts with the expected bytes (echo server)', async () => {
    const port = await udpServer((m) => Buffer.concat([m, Buffer.from('!')]));
    expect(await run(port, { payload: '70696e67', expect: '70696e' })).toEqual({ ok: true, detail: 'UDP reply of 5 bytes' });
  });

  it('is down when the reply does not match', async () => {
    const port = await udpServer(() => Buffer.from('nope'));
    expect(await run(port, { payload: '00', expect: 'aabb' })).toEqual({ ok: false, detail: 'UDP reply 6e6f7065 does not start with aabb' });
  });

  it('is down on ICMP port unreachable', async () => {
    const port = await udpServer(() => null);
    sockets.pop()!.close();
    expect(await run(port, { payload: '00' })).toEqual({ ok: false, detail: 'udp ECONNREFUSED' });
  });

  it('without a required reply, silence is up; with requireReply it is a timeout', async () => {
    const port = await udpServer(() => null);
    expect(await run(port, { payload: '00' }, 300)).toEqual({ ok: true, detail: 'no ICMP error within 270 ms' });
    expect(await run(port, { payload: '00', requireReply: true }, 300)).toEqual({ ok: false, detail: 'timeout after 300 ms' });
  });
});
