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
  // Not waiting out fetch's idle keep-alive connections (4 s each).
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/**
 * A real HTTP server on loopback answering each request with what `answer` says; null: never
 * answers it (then `dropped` counts the requests their client gave up on).
 */
async function cloud(answer: (r: Received, n: number) => number | null): Promise<{ url: string; got: Received[]; dropped: () => number }> {
  const got: Received[] = [];
  let dropped = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b));
    req.on('end', () => {
      const r = { path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(body) as Received['body'] };
      got.push(r);
      const code = answer(r, got.length);
      if (code === null) res.on('close', () => dropped++);
      else res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, dropped: () => dropped };
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

  it('close() gives a report the cloud never answers half of closeWithinMs, aborts it, then sends the final status', async () => {
    // Each request may take 10 s: without the bound, close() waited for the hung event, then for the final status.
    const c = await cloud((r) => (r.path === '/v1/agent/events' ? null : 204));
    const logs: string[] = [];
    const r = startHttpReporter({ url: c.url, username: 'n1', password: 'pw', log: (l) => logs.push(l), closeWithinMs: 400 });
    r.publishEvent(event(1));
    await waitFor(() => c.got.length === 1, { timeoutMs: 5000, what: 'the event at the cloud' });
    await r.close({ nodeId: 'n1', online: false });
    expect(c.got.map((g) => g.path)).toEqual(['/v1/agent/events', '/v1/agent/status']);
    expect(c.got[1].body).toEqual({ nodeId: 'n1', online: false });
    await waitFor(() => c.dropped() === 1, { timeoutMs: 5000, what: 'the hung event request aborted' });
    expect(logs).toEqual(['report /v1/agent/events abandoned: the agent is stopping']);
  }, 5000);

  it('close() against a cloud that answers nothing returns within closeWithinMs, leaving no request behind', async () => {
    const c = await cloud(() => null);
    const r = startHttpReporter({ url: c.url, username: 'n1', password: 'pw', log: () => {}, closeWithinMs: 400 });
    r.publishStatus(status(1));
    await waitFor(() => c.got.length === 1, { timeoutMs: 5000, what: 'the status at the cloud' });
    await r.close({ nodeId: 'n1', online: false });
    // Both the status in flight and the final one were given up on, not left running.
    await waitFor(() => c.dropped() === c.got.length, { timeoutMs: 5000, what: 'every request aborted' });
    expect(c.got.length).toBeGreaterThanOrEqual(1);
  }, 5000);
});
