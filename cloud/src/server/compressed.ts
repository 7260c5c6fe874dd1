import { Hono } from 'hono';
import { compress } from 'hono/compress';

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * The API and pages as `serve` answers them: a body of 1 KiB or more of a text type (JSON, HTML,
 * YAML, the metrics) gzip- or deflate-encoded when the client accepts it (`lvsfleet`'s fetch, the
 * browsers and Prometheus all do). A 10,000-node site's status is 7 MB of JSON and about 250 KB
 * gzipped: seconds against a fraction of one on an operator's link. Node only, at the edge as the
 * runtime adapter: Cloudflare compresses a Worker's answers itself.
 */
export function compressed(app: { fetch: Fetch }): Fetch {
  const outer = new Hono().use(compress()).all('*', async (c) => {
    // The request and the Node bindings (its socket, for the client's address) go through unchanged.
    const res = await app.fetch(c.req.raw, c.env);
    if (!res.body || res.headers.has('content-length')) return res;
    // Every answer here is whole before it is sent (no streams): its length, which the middleware
    // needs to leave a small one (an error, a 404) as it is rather than start a zlib stream for it.
    const body = await res.arrayBuffer();
    const headers = new Headers(res.headers);
    headers.set('content-length', String(body.byteLength));
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  });
  return outer.fetch;
}
