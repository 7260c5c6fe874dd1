import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../scheduler-sim.test-support.ts';
import { httpCheck } from './http.ts';
import { statusMatches } from './http-status.ts';

const BODY = 'hello from the real server\n';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
let server: http.Server;
let port: number;
const hosts: (string | undefined)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hosts.push(req.headers.host);
    if (req.url === '/ok') res.end(BODY);
    else if (req.url === '/chunked') {
      res.write('hello ');
      res.end('chunks');
    } else if (req.url === '/down') res.writeHead(503).end('no');
    else if (req.url === '/moved') res.writeHead(301, { Location: '/ok' }).end();
    else if (req.url === '/hang') {
      /* accepts and never answers */
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const http1 = (urls: unknown[], more: Record<string, unknown> = {}, timeoutMs = 1000) =>
  httpCheck(check({ type: 'http', port, timeoutMs, params: { urls, ...more } }), AbortSignal.timeout(timeoutMs));

describe('HTTP checker against a real server', () => {
  it('is up on an expected status and names the status and path', async () => {
    expect(await http1([{ path: '/ok', expectStatus: ['200-299'] }])).toEqual({ ok: true, detail: 'HTTP 200 on /ok' });
  });

  it('is down on an unexpected status', async () => {
    expect(await http1([{ path: '/down', expectStatus: ['200-299'] }])).toEqual({ ok: false, detail: 'HTTP 503 on /down' });
  });

  it('accepts explicit codes and ranges (503 listed, 301 in 300-399)', async () => {
    expect((await http1([{ path: '/down', expectStatus: [200, 503] }])).ok).toBe(true);
    expect((await http1([{ path: '/moved', expectStatus: ['300-399'] }])).ok).toBe(true);
    expect((await http1([{ path: '/moved', expectStatus: [200] }])).detail).toBe('HTTP 301 on /moved');
  });

  it('checks the MD5 digest of the body like genhash', async () => {
    expect(await http1([{ path: '/ok', digest: md5(BODY), expectStatus: [200] }])).toEqual({ ok: true, detail: 'HTTP 200 on /ok, digest ok' });
    expect((await http1([{ path: '/chunked', digest: md5('hello chunks'), expectStatus: [200] }])).ok).toBe(true);
    const bad = await http1([{ path: '/ok', digest: md5('other'), expectStatus: [200] }]);
    expect(bad).toEqual({ ok: false, detail: `digest mismatch on /ok: got ${md5(BODY)}, want ${md5('other')}` });
  });

  it('needs every url to pass', async () => {
    const r = await http1([
      { path: '/ok', expectStatus: [200] },
      { path: '/missing', expectStatus: [200] },
    ]);
    expect(r).toEqual({ ok: false, detail: 'HTTP 404 on /missing' });
  });

  it('sends virtualhost as the Host header', async () => {
    hosts.length = 0;
    await http1([{ path: '/ok', expectStatus: [200] }], { virtualhost: 'www.example.test' });
    await http1([{ path: '/ok', expectStatus: [200] }]);
    expect(hosts).toEqual(['www.example.test', `127.0.0.1:${port}`]);
  });

  it('times out on a server that accepts and never answers', async () => {
    expect(await http1([{ path: '/hang', expectStatus: [200] }], {}, 300)).toEqual({ ok: false, detail: 'timeout after 300 ms' });
  });

  it('is down with the errno when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await httpCheck(check({ type: 'http', port: p, params: { urls: [{ path: '/', expectStatus: [200] }] } }), AbortSignal.timeout(1000));
    expect(r).toEqual({ ok: false, detail: 'connect ECONNREFUSED' });
  });

  it('reports bad params by field', async () => {
    await expect(httpCheck(check({ type: 'http', port, params: { urls: [] } }), AbortSignal.timeout(1000))).rejects.toThrow(/bad http check params: urls/);
  });
});

describe('statusMatches', () => {
  it('matches codes and inclusive ranges', () => {
    expect(statusMatches(200, ['200-299'])).toBe(true);
    expect(statusMatches(299, ['200-299'])).toBe(true);
    expect(statusMatches(300, ['200-299'])).toBe(false);
    expect(statusMatches(404, [200, 404])).toBe(true);
    expect(statusMatches(500, [200, '400-499'])).toBe(false);
  });
});
