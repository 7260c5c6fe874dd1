import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from './listen-address.ts';

export interface MetricsServer {
  /** Where it listens (the real port when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** The exposition, or null while the agent has nothing to show yet (503). */
export type Render = () => Promise<{ contentType: string; body: string } | null>;

/**
 * Serves `GET /metrics` on one address with node:http; every other path is 404. Rejects with
 * the OS's reason (EADDRINUSE, EADDRNOTAVAIL, EACCES) when it cannot listen.
 */
export async function serveMetrics(at: ListenAddress, render: Render, log: (line: string) => void): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are on /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    render().then(
      (r) => {
        if (!r) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
        res.writeHead(200, { 'content-type': r.contentType }).end(req.method === 'HEAD' ? undefined : r.body);
      },
      (e: Error) => {
        log(`metrics: scrape failed: ${e.message}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`);
      },
    );
  });
  // A slow or idle scraper must not keep the agent from stopping.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
      reject(new Error(`metrics: cannot listen on ${where}: ${e.code ?? e.message}`));
    });
    server.listen(at.port, at.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: at.host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
