import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookFetch } from './webhook-transport.ts';

// Every receiver listens on 127.0.0.1; refused targets are refused before any connection.
function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as AddressInfo).port })));
}

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
const signal = () => AbortSignal.timeout(5_000);

describe('webhookFetch', () => {
  let hits: string[] = [];
  let receiver: { server: Server; port: number };
  let other: { server: Server; port: number };
  let otherHits = 0;
  /** A name the tests' resolver maps to loopback, the way a hostile DNS record would. */
  const resolve = (host: string) => Promise.resolve(host === 'hooks.internal.test' ? ['127.0.0.1'] : []);

  beforeAll(async () => {
    other = await listen((_req, res) => {
      otherHits++;
      res.end('redirected here');
    });
    receiver = await listen((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(307, { location: `http://127.0.0.1:${other.port}/` });
        return res.end();
      }
      if (req.url === '/huge') {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
        return;
      }
      if (req.url === '/silent') return; // never answers
      req.resume();
      req.on('end', () => res.end('ok'));
    });
  });
  afterAll(() => {
    receiver.server.closeAllConnections();
    receiver.server.close();
    other.server.close();
  });
  beforeEach(() => {
    hits = [];
    otherHits = 0;
  });

  it('refuses loopback by default: literals, localhost and a name that resolves to 127.0.0.1, without connecting', async () => {
    const send = webhookFetch({ allowPrivate: false, resolve });
    const systemSend = webhookFetch({ allowPrivate: false });
    await expect(send(`http://127.0.0.1:${receiver.port}/a`, { ...post, signal: signal() })).rejects.toThrow(/refused: 127\.0\.0\.1 is a loopback/);
    await expect(send(`http://[::ffff:127.0.0.1]:${receiver.port}/a`, { ...post, signal: signal() })).rejects.toThrow(/refused/);
    await expect(send(`http://hooks.internal.test:${receiver.port}/a`, { ...post, signal: signal() })).rejects.toThrow(
      /refused: hooks\.internal\.test resolves to 127\.0\.0\.1/,
    );
    await expect(systemSend(`http://localhost:${receiver.port}/a`, { ...post, signal: signal() })).rejects.toThrow(/refused: localhost resolves to/);
    expect(hits).toEqual([]);
  });

  it('with allowPrivate delivers to loopback, connecting to the checked address of a name', async () => {
    const send = webhookFetch({ allowPrivate: true, resolve });
    expect(await send(`http://127.0.0.1:${receiver.port}/b`, { ...post, signal: signal() })).toEqual({ status: 200 });
    expect(await send(`http://hooks.internal.test:${receiver.port}/c`, { ...post, signal: signal() })).toEqual({ status: 200 });
    expect(hits).toEqual(['/b', '/c']);
  });

  it('does not follow a redirect', async () => {
    const send = webhookFetch({ allowPrivate: true });
    expect(await send(`http://127.0.0.1:${receiver.port}/redirect`, { ...post, signal: signal() })).toEqual({ status: 307 });
    expect(otherHits).toBe(0);
  });

  it('reads at most a capped answer and is bounded by the signal', async () => {
    const send = webhookFetch({ allowPrivate: true });
    expect(await send(`http://127.0.0.1:${receiver.port}/huge`, { ...post, signal: signal() })).toEqual({ status: 200 });
    await expect(send(`http://127.0.0.1:${receiver.port}/silent`, { ...post, signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });
});
