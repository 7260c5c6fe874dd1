import type { IncomingMessage } from 'node:http';

/** What the API client reads of an answer (a subset of fetch's Response). */
interface HttpAnswer {
  status: number;
  ok: boolean;
  text(): Promise<string>;
}

export type Requester = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<HttpAnswer>;

/**
 * One HTTP(S) request through node:http or node:https, loaded on the first request: commands that
 * never call the API (`validate`, `export --spec`) do not load them. The CLI makes a request or
 * two per run, and fetch's first use alone costs tens of milliseconds of every start
 * (`npm run bench:cli`). A failure rejects with the socket error as `cause`, as fetch does.
 */
export const nodeRequest: Requester = async (url, init) => {
  const u = new URL(url);
  const { request: send } = u.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(u, { method: init.method, headers }, resolve);
    req.on('error', (err) => reject(new Error(err.message, { cause: err })));
    req.end(init.body);
  });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  return { status, ok: status >= 200 && status < 300, text: async () => text };
};
