import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

/** Messages after which a connection may give up its turn: Sync, Query, Terminate, and the startup message (no type byte). */
const BOUNDARY = new Set([0x53, 0x51, 0x58, 0x00]);

/**
 * pglite-socket's protocol handler (framing, SSL refusal, cancel requests) with a stricter turn
 * order than its own queue. PGlite is one session: its queue keeps a transaction's messages
 * together, but outside one it lets two connections' extended-protocol messages interleave
 * (Parse of one between Parse and Execute of the other), which breaks the unnamed statement — what
 * postgres.js sends for every query. Here a connection keeps the database from its first message
 * until a Sync or Query has run with no transaction open, so concurrent clients (a request, an
 * alarm, the cron) each see a session of their own.
 */
class TurnQueue {
  private owner: number | null = null;
  private waiting: { id: number; go: () => void; fail: (e: Error) => void }[] = [];

  constructor(private readonly db: PGlite) {}

  async enqueue(id: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    await this.turn(id);
    let bytes = 0;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(message, {
          onRawData: (d) => {
            bytes += d.length;
            onData(d);
          },
        }),
      );
    } finally {
      if (BOUNDARY.has(message[0]) && !this.db.isInTransaction()) this.release(id);
    }
    return bytes;
  }

  private turn(id: number): Promise<void> {
    if (this.owner === null || this.owner === id) {
      this.owner = id;
      return Promise.resolve();
    }
    return new Promise((go, fail) => this.waiting.push({ id, go, fail }));
  }

  private release(id: number): void {
    if (this.owner !== id) return;
    this.owner = null;
    const next = this.waiting.shift();
    if (next) {
      this.owner = next.id;
      next.go();
    }
  }

  getQueueLength(): number {
    return this.waiting.length;
  }

  clearQueueForHandler(id: number): void {
    for (const w of this.waiting.filter((x) => x.id === id)) w.fail(new Error('connection closed'));
    this.waiting = this.waiting.filter((x) => x.id !== id);
  }

  /** A connection that went away in its turn: roll its transaction back and pass the turn on. */
  async clearTransactionIfNeeded(id: number): Promise<void> {
    if (this.owner !== id) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.release(id);
  }
}

/** Serves `db` over the PostgreSQL wire protocol on 127.0.0.1 (port 0: any free one). */
export async function servePglite(db: PGlite): Promise<{ url: string; close(): Promise<void> }> {
  const queue = new TurnQueue(db);
  const server: Server = createServer((socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true });
    void handler.attach(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `postgres://postgres@127.0.0.1:${(server.address() as AddressInfo).port}/postgres`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
