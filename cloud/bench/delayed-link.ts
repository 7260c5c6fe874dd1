import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay on loopback to `target` that holds every chunk `delayMs` in each direction before
 * passing it on, in order: a database that is a network hop away (a managed PostgreSQL is often
 * 0.5-2 ms round trip from its clients) measured on one machine, where the real one answers in
 * ~0.1 ms and a statement that waits for another's answer costs next to nothing. Each round trip
 * through it takes at least 2 × delayMs. Nagle's algorithm is off on both legs, as the drivers
 * have it, so a small write is not held back waiting for the previous one's acknowledgement.
 */
export async function startDelayedLink(target: { host: string; port: number }, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  if (!(delayMs >= 0)) throw new Error(`delayed link: the delay must be a number of ms >= 0, not ${delayMs}`);
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      open.add(s);
      s.on('close', () => open.delete(s));
      // An end of either leg ends the other; the error itself is the relayed peer's to report.
      s.on('error', () => {});
    }
    // Timers of one duration fire in the order they were set: the chunks stay in order.
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
      from.on('close', () => setTimeout(() => to.destroy(), delayMs));
    };
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A PostgreSQL `url` reached through a delayed link (startDelayedLink): the same URL, its host and
 * port the relay's. What the benches' `--db-delay MS` opens their database with.
 */
export async function delayedUrl(url: string, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(url);
  const link = await startDelayedLink({ host: target.hostname, port: Number(target.port || 5432) }, delayMs);
  target.hostname = '127.0.0.1';
  target.port = String(link.port);
  return { url: target.toString(), close: () => link.close() };
}

/**
 * The benches' `--db-delay MS` from `argv`: 0 when it is not there. A value that is not a number of
 * milliseconds >= 0 is refused, naming it, rather than run without the delay asked for.
 */
export function dbDelayArg(argv: readonly string[]): number {
  const at = argv.indexOf('--db-delay');
  if (at < 0) return 0;
  const text = argv[at + 1];
  const ms = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  if (!(ms >= 0)) throw new Error(`--db-delay: MS must be a number of milliseconds >= 0, not ${JSON.stringify(text ?? null)}`);
  return ms;
}
