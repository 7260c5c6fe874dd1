import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { dnsCheck } from './dns.ts';
import { httpCheck } from './http.ts';
import { encodeEcho6Request, readIcmp6 } from './icmp-echo.ts';
import { canPing, pingCheck } from './ping.ts';
import { smtpCheck } from './smtp.ts';
import { tcpCheck } from './tcp.ts';
import { udpCheck } from './udp.ts';

/** Every checker against a real server listening on the IPv6 loopback (and ping over ICMPv6). */
const V6 = '::1';
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

async function listen(server: net.Server): Promise<number> {
  closers.push(() => server.close());
  await new Promise<void>((r) => server.listen(0, V6, r));
  return (server.address() as AddressInfo).port;
}

async function udp6(reply: (msg: Buffer) => Buffer | null): Promise<number> {
  const s = dgram.createSocket('udp6');
  closers.push(() => s.close());
  s.on('message', (m, r) => {
    const out = reply(m);
    if (out) s.send(out, r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, V6, r));
  return s.address().port;
}

const v6 = (over: Parameters<typeof check>[0]) => check({ address: V6, ...over });

describe('checkers over IPv6 against real servers on ::1', () => {
  it('tcp: up, with the address bracketed in the detail; refused when nothing listens', async () => {
    const port = await listen(net.createServer((s) => s.on('error', () => {})));
    expect(await tcpCheck(v6({ port }), AbortSignal.timeout(1000))).toEqual({ ok: true, detail: `connected to [::1]:${port}` });
    closers.splice(0).forEach((c) => c());
    expect(await tcpCheck(v6({ port }), AbortSignal.timeout(1000))).toEqual({ ok: false, detail: 'connect ECONNREFUSED' });
  });

  it('http: the Host header carries the bracketed address when no virtualhost is set; virtualhost wins', async () => {
    const hosts: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      hosts.push(req.headers.host);
      res.end('ok');
    });
    closers.push(() => server.closeAllConnections());
    const port = await listen(server);
    const run = (params: Record<string, unknown>) => httpCheck(v6({ type: 'http', port, params }), AbortSignal.timeout(1000));
    expect(await run({ urls: [{ path: '/', expectStatus: [200], digest: '444bcb3a3fcf8389296c49467f27e1d6' }] })).toEqual({
      ok: true,
      detail: 'HTTP 200 on /, digest ok',
    });
    expect(await run({ urls: [{ path: '/', expectStatus: [200] }], virtualhost: 'www.example.test' })).toMatchObject({ ok: true });
    expect(hosts).toEqual([`[::1]:${port}`, 'www.example.test']);
  });

  it('https: TLS over IPv6 with SNI from the virtualhost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-https6-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=svc.test'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    const snis: (string | false)[] = [];
    const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      snis.push((req.socket as TLSSocket & { servername: string | false }).servername);
      res.end('ok');
    });
    closers.push(() => server.closeAllConnections());
    const port = await listen(server);
    const r = await httpCheck(
      v6({ type: 'https', port, params: { urls: [{ path: '/', expectStatus: [200] }], virtualhost: 'svc.test', sni: true } }),
      AbortSignal.timeout(2000),
    );
    expect(r).toEqual({ ok: true, detail: 'HTTP 200 on /' });
    expect(snis).toEqual(['svc.test']);
  });

  it('smtp: banner and HELO over IPv6', async () => {
    const port = await listen(
      net.createServer((sock) => {
        sock.write('220 mx ready\r\n');
        sock.on('data', (d) => {
          if (d.toString().startsWith('HELO')) sock.write('250 hi\r\n');
          else sock.end('221 bye\r\n');
        });
        sock.on('error', () => {});
      }),
    );
    expect(await smtpCheck(v6({ type: 'smtp', port, params: { helo: 'lb.test' } }), AbortSignal.timeout(1000))).toEqual({ ok: true, detail: 'SMTP 220/250' });
  });

  it('udp: a udp6 socket, reply matched; ICMPv6 port unreachable is down', async () => {
    const port = await udp6((m) => Buffer.concat([m, Buffer.from('!')]));
    const run = (p: number, timeoutMs = 500) =>
      udpCheck(v6({ type: 'udp', port: p, timeoutMs, params: { payload: '70696e67', expect: '70696e67' } }), AbortSignal.timeout(timeoutMs));
    expect(await run(port)).toEqual({ ok: true, detail: 'UDP reply of 5 bytes' });
    closers.splice(0).forEach((c) => c());
    expect(await run(port)).toEqual({ ok: false, detail: 'udp ECONNREFUSED' });
  });

  it('dns: a query over udp6 answered NOERROR is up', async () => {
    const port = await udp6((q) => {
      let o = 12;
      while (q[o] !== 0) o += q[o] + 1;
      const reply = Buffer.from(q.subarray(0, o + 5));
      reply.writeUInt16BE(0x8180, 2);
      return reply;
    });
    const r = await dnsCheck(v6({ type: 'dns', port, params: { queryType: 'AAAA', name: 'www.example.test' } }), AbortSignal.timeout(1000));
    expect(r.ok).toBe(true);
  });
});

const pingable6 = canPing('ipv6');
if (!pingable6) console.log('skip ICMPv6 ping against ::1: a raw ICMPv6 socket needs root (CAP_NET_RAW)');

describe('PING checker over ICMPv6', () => {
  it.skipIf(!pingable6)('gets an ICMPv6 echo reply from ::1, in parallel with an IPv4 ping (raw sockets, root)', async () => {
    const results = await Promise.all(
      ['::1', '0:0:0:0:0:0:0:1', '127.0.0.1'].map((address) => pingCheck(check({ type: 'ping', address, port: 0 }), AbortSignal.timeout(1000))),
    );
    expect(results).toEqual([
      { ok: true, detail: 'ICMPv6 echo reply from ::1' },
      { ok: true, detail: 'ICMPv6 echo reply from ::1' },
      { ok: true, detail: 'ICMP echo reply from 127.0.0.1' },
    ]);
  });

  it('builds echo requests (type 128, checksum left to the kernel) and reads replies and unreachables', () => {
    const req = encodeEcho6Request(0x4242, 7);
    expect([...req.subarray(0, 8)]).toEqual([128, 0, 0, 0, 0x42, 0x42, 0, 7]);
    const reply = Buffer.from(req);
    reply[0] = 129;
    expect(readIcmp6(reply, '2001:db8::9')).toEqual({ kind: 'reply', from: '2001:db8::9', id: 0x4242, seq: 7 });
    // Destination unreachable (code 3, address unreachable) quoting our request after its IPv6 header.
    const inner = Buffer.alloc(40);
    inner[0] = 0x60;
    inner[6] = 58;
    const unreach = Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), inner, req]);
    expect(readIcmp6(unreach, '2001:db8::1')).toEqual({ kind: 'unreachable', id: 0x4242, seq: 7, code: 3 });
    // The same quote of a UDP packet is not ours; a Neighbor Solicitation is other.
    inner[6] = 17;
    expect(readIcmp6(Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), inner, req]), '2001:db8::1')).toEqual({ kind: 'other' });
    expect(readIcmp6(Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), 'fe80::1')).toEqual({ kind: 'other' });
  });
});
