import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { tcpCheck } from './tcp.ts';

let server: net.Server;
let port: number;
beforeAll(async () => {
  server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

describe('TCP checker against a real listener', () => {
  it('is up when the connection completes', async () => {
    expect(await tcpCheck(check({ port }), AbortSignal.timeout(1000))).toEqual({ ok: true, detail: `connected to 127.0.0.1:${port}` });
  });

  it('binds the source address with bindTo', async () => {
    const seen: string[] = [];
    server.once('connection', (s) => seen.push(s.remoteAddress!));
    expect((await tcpCheck(check({ port, bindTo: '127.0.0.2' }), AbortSignal.timeout(1000))).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['127.0.0.2']);
  });

  it('is down with ECONNREFUSED when nothing listens', async () => {
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const p = (other.address() as AddressInfo).port;
    await new Promise((r) => other.close(r));
    expect(await tcpCheck(check({ port: p }), AbortSignal.timeout(1000))).toEqual({ ok: false, detail: 'connect ECONNREFUSED' });
  });

  it('reports a timeout when aborted before the connection completes', async () => {
    expect(await tcpCheck(check({ port, timeoutMs: 250 }), AbortSignal.abort())).toEqual({ ok: false, detail: 'timeout after 250 ms' });
  });
});
