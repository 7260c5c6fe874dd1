import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One HTTP request from a Node process (an agent) for the Worker, as the workerd test pump sees it. */
interface RelayedRequest {
  id: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** base64 */
  body: string;
}

/**
 * The Worker under test listens on no port: vitest-pool-workers calls it from inside workerd. So
 * that a real agent process can reach it, this loopback server holds each request the agent
 * makes, the workerd test takes it (`GET /__relay/next`, long poll), has the Worker answer it
 * through its own `fetch` and posts the answer back (`POST /__relay/answer/ID`), which this server
 * sends to the agent. Every other `/__…` path is the test's control of the Node side (`control`).
 */
export async function startRelay(
  control: (req: IncomingMessage, body: string) => Promise<{ status: number; body: unknown } | null>,
): Promise<{ url: string; server: Server }> {
  let next = 1;
  const queue: RelayedRequest[] = [];
  const takers: ((r: RelayedRequest | null) => void)[] = [];
  const answers = new Map<number, (a: { status: number; headers: Record<string, string>; body: string }) => void>();
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => resolve(Buffer.concat(parts)));
      req.on('error', reject);
    });
  const server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const path = req.url ?? '/';
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (path === '/__relay/next') {
        const r = queue.shift();
        if (r) return json(200, r);
        const timer = setTimeout(() => {
          takers.splice(takers.indexOf(give), 1);
          json(204, null);
        }, 1000);
        const give = (x: RelayedRequest | null) => (clearTimeout(timer), json(200, x));
        return void takers.push(give);
      }
      const answer = /^\/__relay\/answer\/(\d+)$/.exec(path);
      if (answer) {
        answers.get(Number(answer[1]))?.(JSON.parse(body.toString()) as { status: number; headers: Record<string, string>; body: string });
        answers.delete(Number(answer[1]));
        return json(200, {});
      }
      if (path.startsWith('/__')) {
        const r = await control(req, body.toString());
        return r ? json(r.status, r.body) : json(404, { error: 'no such control path' });
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const item: RelayedRequest = { id: next++, method: req.method ?? 'GET', path, headers, body: body.toString('base64') };
      const done = new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve) => answers.set(item.id, resolve));
      const taker = takers.shift();
      if (taker) taker(item);
      else queue.push(item);
      const a = await done;
      res.writeHead(a.status, a.headers).end(Buffer.from(a.body, 'base64'));
    })().catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
