import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { startHttpReporter, type HttpReporter } from './http-report.ts';

interface Received {
  path: string;
  auth: string | undefined;
  body: { nodeId: string; appliedRevision?: number; data?: { n: number } };
}

let server: Server | undefined;
let reporter: HttpReporter | undefined;
afterEach(async () => {
  await reporter?.close();
  await new Promise((r) => server?.close(r));
});

/** A real HTTP server on loopback answering each request with what `answer` says. */
async function cloud(answer: (r: Received, n: number) => number): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b));
    req.on('end', () => {
      const r = { path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(body) as Received['body'] };
      got.push(r);
      res.writeHead(answer(r, got.length)).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

const status = (rev: number) => ({ nodeId: 'n1', online: true, appliedRevision: rev }) as NodeStatus;
const event = (n: number) => ({ nodeId: 'n1', type: 'agent.degraded', at: new Date().toISOString(), data: { n } }) as unknown as NodeEvent;
const start = (url: string) => (reporter = startHttpReporter({ url, username: 'n1', password: 'pw', log: () => {}, baseDelayMs: 20, maxDelayMs: 50 }));

describe('startHttpReporter', () => {
  it('POSTs status and events with the node credentials; only the newest waiting status goes', async () => {
    const c = await cloud(() => 204);
    const r = start(c.url);
    r.publishStatus(status(1));
    r.publishStatus(status(2));
    r.publishStatus(status(3));
    r.publishEvent(event(1));
    await waitFor(() => c.got.some((g) => g.path === '/v1/agent/events'), { timeoutMs: 5000 });
    const statuses = c.got.filter((g) => g.path === '/v1/agent/status').map((g) => g.body.appliedRevision);
    expect(statuses.at(-1)).toBe(3);
    expect(statuses).not.toContain(2);
    expect(c.got[0].auth).toBe(`Basic ${Buffer.from('n1:pw').toString('base64')}`);
  });

  it('retries a cloud that answers 503 with back-off, in order; drops what it refuses (400)', async () => {
    const c = await cloud((r, n) => (n <= 2 ? 503 : r.body.data?.n === 2 ? 400 : 204));
    const r = start(c.url);
    for (const n of [1, 2, 3]) r.publishEvent(event(n));
    await waitFor(() => c.got.filter((g) => g.body.data?.n === 3).length === 1, { timeoutMs: 5000 });
    const order = c.got.map((g) => g.body.data?.n);
    expect(order).toEqual([1, 1, 1, 2, 3]);
  });
});
