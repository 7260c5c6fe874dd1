/** The driver's side of the lab client (guest/client.ts) running in the client namespace. */
import { createInterface } from 'node:readline';
import { daemon, type Daemon } from './sh.ts';

export interface Got {
  ok: boolean;
  body: string;
  server?: string;
  bytes: number;
  error?: string;
}
export interface Tally {
  counts: Record<string, number>;
  fail: number;
  errors: string[];
}
export interface LoopResult {
  ok: number;
  fail: number;
  longestGapMs: number;
  servers: Record<string, number>;
  /** Answers per server since the last {@link Client.loopMark}. */
  sinceMark: Record<string, number>;
  /** The first few failures, with their time. */
  errors: string[];
  seconds: number;
  /** Requests sent per second (answered or not) over the loop's life. */
  ratePerS: number;
}

/** A JSON-lines RPC to the client process. */
export class Client {
  private next = 1;
  private pending = new Map<number, (m: { ok: boolean; result?: unknown; error?: string }) => void>();
  private constructor(private readonly proc: Daemon) {}

  static async start(ns: string): Promise<Client> {
    const proc = daemon('client', ns, ['node', '/lab/client.mjs'], { stdin: true });
    const c = new Client(proc);
    const ready = new Promise<void>((resolve) => c.pending.set(0, () => resolve()));
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      let m: { id: number; ok: boolean; result?: unknown; error?: string };
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      c.pending.get(m.id)?.(m);
      c.pending.delete(m.id);
    });
    await ready;
    return c;
  }

  private call<T>(op: string, args: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (m) => (m.ok ? resolve(m.result as T) : reject(new Error(m.error))));
      this.proc.child.stdin?.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  get(url: string, localAddress?: string, timeoutMs = 3000): Promise<Got> {
    return this.call('get', { url, localAddress, timeoutMs });
  }
  tally(url: string, n: number, localAddress?: string, timeoutMs = 3000): Promise<Tally> {
    return this.call('tally', { url, n, localAddress, timeoutMs });
  }
  loopStart(name: string, url: string, intervalMs: number, localAddress?: string, timeoutMs = 500, workers = 1): Promise<void> {
    return this.call('loopStart', { name, url, intervalMs, localAddress, timeoutMs, workers });
  }
  /** Counts so far, and answers per server since the previous mark (then starts a new mark). */
  loopMark(name: string): Promise<{ ok: number; fail: number; sinceMark: Record<string, number> }> {
    return this.call('loopMark', { name });
  }
  loopStop(name: string): Promise<LoopResult> {
    return this.call('loopStop', { name });
  }
  hold(name: string, host: string, port: number, localAddress?: string): Promise<{ localPort: number }> {
    return this.call('hold', { name, host, port, localAddress });
  }
  holdPing(name: string, text: string, timeoutMs = 3000): Promise<{ ok: boolean; reply?: string; error?: string }> {
    return this.call('holdPing', { name, text, timeoutMs });
  }
  holdClose(name: string): Promise<void> {
    return this.call('holdClose', { name });
  }
  stop(): Promise<void> {
    return this.proc.stop(1000).then(() => {});
  }
}
