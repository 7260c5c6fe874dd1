import { describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { encodeEchoRequest, internetChecksum, readIcmp } from './icmp-echo.ts';
import { canPing, pingCheck } from './ping.ts';

const pingable = canPing();
if (!pingable) console.log('skip ping against loopback: a raw ICMP socket needs root (CAP_NET_RAW)');

describe('PING checker', () => {
  it.skipIf(!pingable)('gets an ICMP echo reply from 127.0.0.1 (raw socket, root)', async () => {
    const results = await Promise.all(
      ['127.0.0.1', '127.0.0.1', '127.0.0.3'].map((address) => pingCheck(check({ type: 'ping', address, port: 0 }), AbortSignal.timeout(1000))),
    );
    expect(results).toEqual([
      { ok: true, detail: 'ICMP echo reply from 127.0.0.1' },
      { ok: true, detail: 'ICMP echo reply from 127.0.0.1' },
      { ok: true, detail: 'ICMP echo reply from 127.0.0.3' },
    ]);
  });

  it('builds echo requests with a valid checksum and reads replies', () => {
    const req = encodeEchoRequest(0x4242, 7);
    expect(internetChecksum(req)).toBe(0);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.set([127, 0, 0, 9], 12);
    const reply = Buffer.from(req);
    reply[0] = 0;
    expect(readIcmp(Buffer.concat([ip, reply]))).toEqual({ kind: 'reply', from: '127.0.0.9', id: 0x4242, seq: 7 });
    const unreach = Buffer.concat([ip, Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), Buffer.from([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1]), Buffer.alloc(10), req]);
    expect(readIcmp(unreach)).toEqual({ kind: 'unreachable', id: 0x4242, seq: 7, code: 3 });
  });
});
