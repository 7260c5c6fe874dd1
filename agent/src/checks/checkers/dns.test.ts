import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { dnsCheck } from './dns.ts';
import { encodeQuery, judgeResponse } from './dns-packet.ts';

const sockets: dgram.Socket[] = [];
afterEach(() => sockets.splice(0).forEach((s) => s.close()));

/** A DNS server on loopback: answers each query with `rcode`; `decoy` first sends a reply with another id. */
async function dnsServer(rcode: number, decoy = false): Promise<{ port: number; questions: { name: string; type: number; rd: boolean }[] }> {
  const questions: { name: string; type: number; rd: boolean }[] = [];
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  s.on('message', (q, rinfo) => {
    const labels: string[] = [];
    let o = 12;
    while (q[o] !== 0) {
      labels.push(q.subarray(o + 1, o + 1 + q[o]).toString());
      o += q[o] + 1;
    }
    questions.push({ name: labels.join('.') || '.', type: q.readUInt16BE(o + 1), rd: (q.readUInt16BE(2) & 0x0100) !== 0 });
    const reply = Buffer.from(q.subarray(0, o + 5));
    reply.writeUInt16BE(0x8180 | rcode, 2);
    if (decoy) {
      const other = Buffer.from(reply);
      other.writeUInt16BE((q.readUInt16BE(0) + 1) & 0xffff, 0);
      other.writeUInt16BE(0x8183, 2); // NXDOMAIN with the wrong id: must be ignored
      s.send(other, rinfo.port, rinfo.address);
    }
    s.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, questions };
}

const run = (port: number, params: Record<string, unknown> = { queryType: 'A', name: 'www.example.test' }, timeoutMs = 1000) =>
  dnsCheck(check({ type: 'dns', port, timeoutMs, params }), AbortSignal.timeout(timeoutMs));

describe('DNS checker against a real UDP DNS server', () => {
  it('is up on NOERROR and asks the configured name and type with RD', async () => {
    const s = await dnsServer(0);
    expect(await run(s.port)).toEqual({ ok: true, detail: 'DNS NOERROR, 0 answers' });
    expect(s.questions).toEqual([{ name: 'www.example.test', type: 1, rd: true }]);
  });

  it('asks SOA for the root by default form (name ".")', async () => {
    const s = await dnsServer(0);
    await run(s.port, { queryType: 'SOA', name: '.' });
    expect(s.questions).toEqual([{ name: '.', type: 6, rd: true }]);
  });

  it('is down on NXDOMAIN / SERVFAIL', async () => {
    expect(await run((await dnsServer(3)).port)).toEqual({ ok: false, detail: 'DNS RCODE 3 (NXDOMAIN)' });
    expect(await run((await dnsServer(2)).port)).toEqual({ ok: false, detail: 'DNS RCODE 2 (SERVFAIL)' });
  });

  it('ignores a reply with another id and takes the matching one', async () => {
    expect((await run((await dnsServer(0, true)).port)).ok).toBe(true);
  });

  it('is down when the port is closed (ICMP port unreachable) and times out on silence', async () => {
    const s = await dnsServer(0);
    const port = s.port;
    sockets.pop()!.close();
    expect(await run(port)).toEqual({ ok: false, detail: 'dns ECONNREFUSED' });
    const silent = dgram.createSocket('udp4');
    sockets.push(silent);
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    expect(await run(silent.address().port, undefined, 300)).toEqual({ ok: false, detail: 'timeout after 300 ms' });
  });

  it('judges raw responses like keepalived', () => {
    const q = encodeQuery(0x1234, 'a.b', 'MX');
    expect(judgeResponse(q, 0x1234)).toEqual({ verdict: 'ignore' }); // QR clear: a query, not a reply
    expect(judgeResponse(q.subarray(0, 5), 0x1234)).toEqual({ verdict: 'ignore' });
  });
});
