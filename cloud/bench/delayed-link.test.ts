import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dbDelayArg, delayedUrl, startDelayedLink } from './delayed-link.ts';

/** An echo server on loopback: what it gets, it sends back. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('startDelayedLink', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('relays every byte both ways, in order, and holds each round trip at least twice the delay', async () => {
    const echo = await echoServer();
    cleanups.push(() => new Promise<void>((r) => echo.server.close(() => r())));
    const link = await startDelayedLink({ host: '127.0.0.1', port: echo.port }, 20);
    cleanups.push(() => link.close());
    const socket = connect(link.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    // Many small writes and one large one: all of it comes back, byte for byte, in the order sent.
    const parts = [...Array.from({ length: 200 }, (_, i) => Buffer.from(`part ${i};`)), Buffer.alloc(256 * 1024, 7)];
    const sent = Buffer.concat(parts);
    const got: Buffer[] = [];
    let bytes = 0;
    const back = new Promise<number>((resolve) =>
      socket.on('data', (d) => {
        got.push(d);
        bytes += d.length;
        if (bytes >= sent.length) resolve(performance.now());
      }),
    );
    const t0 = performance.now();
    for (const p of parts) socket.write(p);
    const t1 = await back;
    expect(Buffer.concat(got).equals(sent)).toBe(true);
    expect(t1 - t0).toBeGreaterThanOrEqual(2 * 20 - 1);
  });

  it("gives a database URL through the link: the relay's host and port, the rest as it was", async () => {
    const echo = await echoServer();
    cleanups.push(() => new Promise<void>((r) => echo.server.close(() => r())));
    const link = await delayedUrl(`postgres://postgres:pw@localhost:${echo.port}/db_1?sslmode=disable`, 1);
    cleanups.push(() => link.close());
    const u = new URL(link.url);
    expect([u.protocol, u.username, u.password, u.hostname, u.pathname, u.search]).toEqual([
      'postgres:',
      'postgres',
      'pw',
      '127.0.0.1',
      '/db_1',
      '?sslmode=disable',
    ]);
    expect(u.port).not.toBe(String(echo.port));
    // The relay's port leads to the target: what is written comes back through it.
    const socket = connect(Number(u.port), '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    const back = new Promise<string>((r) => socket.once('data', (d) => r(d.toString())));
    socket.write('ping');
    expect(await back).toBe('ping');
  });

  it('refuses a delay that is not a number of milliseconds', async () => {
    await expect(startDelayedLink({ host: '127.0.0.1', port: 1 }, Number.NaN)).rejects.toThrow(/delay/);
    await expect(startDelayedLink({ host: '127.0.0.1', port: 1 }, -1)).rejects.toThrow(/delay/);
  });

  it('reads --db-delay MS: 0 without it, the number with it, and refuses anything else by name', () => {
    expect(dbDelayArg(['node', 'bench.ts', '--postgres'])).toBe(0);
    expect(dbDelayArg(['node', 'bench.ts', '--db-delay', '1'])).toBe(1);
    expect(dbDelayArg(['--db-delay', '0.5', '--postgres'])).toBe(0.5);
    for (const bad of [['--db-delay'], ['--db-delay', 'x'], ['--db-delay', '-1'], ['--db-delay', '']])
      expect(() => dbDelayArg(bad), JSON.stringify(bad)).toThrow(/--db-delay: MS must be a number of milliseconds/);
  });
});
