import { spawn, type ChildProcess } from 'node:child_process';

/**
 * One long-lived `ip -o -force -batch -` for VIP changes. Starting `ip` costs 10–30 ms on a
 * loaded host, which is most of a 30 ms-advert failover; keepalived uses netlink from its own
 * process. Each command is followed by `link show dev lo` as a marker: ip flushes one output line
 * per marker, and reports a failed command on stderr as "Command failed -:LINE" before it.
 */
export class IpBatch {
  private child: ChildProcess | null = null;
  private line = 0;
  private queue: { line: number; resolve(errors: string[]): void }[] = [];
  private errors = new Map<number, string>();
  private errBuf = '';
  private outBuf = '';

  constructor(private ip = 'ip') {}

  private start(): ChildProcess {
    const c = spawn(this.ip, ['-o', '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.line = 0;
    let message: string[] = [];
    c.stderr!.on('data', (d: Buffer) => {
      this.errBuf += d.toString();
      const lines = this.errBuf.split('\n');
      this.errBuf = lines.pop()!;
      for (const l of lines) {
        const m = /^Command failed -:(\d+)/.exec(l);
        if (m) {
          this.errors.set(Number(m[1]), message.join(' ').trim());
          message = [];
        } else message.push(l);
      }
    });
    c.stdout!.on('data', (d: Buffer) => {
      this.outBuf += d.toString();
      const lines = this.outBuf.split('\n');
      this.outBuf = lines.pop()!;
      for (const _ of lines) {
        const w = this.queue.shift();
        if (!w) continue;
        const e = this.errors.get(w.line);
        this.errors.delete(w.line);
        w.resolve(e ? [e] : []);
      }
    });
    const fail = () => {
      this.child = null;
      for (const w of this.queue.splice(0)) w.resolve(['ip -batch exited']);
    };
    c.on('exit', fail);
    c.on('error', fail);
    return c;
  }

  /** Starts the process ahead of need (at engine start, not on the failover path). */
  warm(): void {
    this.child ??= this.start();
  }

  /**
   * Runs one `ip` command that prints nothing on success (addr add/del), without the leading
   * `ip`; resolves with its error messages (none = ok).
   */
  run(args: string[]): Promise<string[]> {
    if (args.some((a) => /[\s"'\\]/.test(a) || a === '')) return Promise.resolve([`refusing unsafe ip argument in ${JSON.stringify(args)}`]);
    this.child ??= this.start();
    const cmdLine = ++this.line;
    this.line++; // the marker
    return new Promise((resolve) => {
      this.queue.push({ line: cmdLine, resolve });
      this.child!.stdin!.write(`${args.join(' ')}\nlink show dev lo\n`);
    });
  }

  close(): void {
    this.child?.kill();
    this.child = null;
  }
}
