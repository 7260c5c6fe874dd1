import { spawn, type ChildProcess } from 'node:child_process';

/** A device name that never exists: `link show dev` on it always fails, on stderr. */
const MARKER_DEV = 'lvsf-no-such0';

/**
 * One long-lived `ip -o -force -batch -` for VIP changes. Starting `ip` costs 10–30 ms on a
 * loaded host, which is most of a 30 ms-advert failover; keepalived uses netlink from its own
 * process. Each command is followed by a marker command that always fails (`link show dev` of a
 * device that does not exist), so everything this class reads comes in order on ONE stream,
 * stderr: a failed command prints its message and "Command failed -:LINE", then its marker's
 * "Command failed -:LINE+1" closes the command. (Reading errors on stderr and markers on stdout
 * raced: a marker could overtake its command's error.)
 */
export class IpBatch {
  private child: ChildProcess | null = null;
  private line = 0;
  /** Waiters by their marker's line number. */
  private waiting = new Map<number, { cmdLine: number; resolve(errors: string[]): void }>();
  private errors = new Map<number, string>();
  private errBuf = '';

  constructor(private ip = 'ip') {}

  private start(): ChildProcess {
    const c = spawn(this.ip, ['-o', '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.line = 0;
    let message: string[] = [];
    c.stderr!.on('data', (d: Buffer) => {
      this.errBuf += d.toString();
      const lines = this.errBuf.split('\n');
      this.errBuf = lines.pop()!;
      for (const l of lines) {
        const m = /^Command failed -:(\d+)/.exec(l);
        if (!m) {
          message.push(l);
          continue;
        }
        const at = Number(m[1]);
        const w = this.waiting.get(at);
        if (w) {
          // The marker: its own "does not exist" message is not an error of the command.
          this.waiting.delete(at);
          const e = this.errors.get(w.cmdLine);
          this.errors.delete(w.cmdLine);
          w.resolve(e ? [e] : []);
        } else this.errors.set(at, message.join(' ').trim());
        message = [];
      }
    });
    const fail = () => {
      this.child = null;
      for (const w of this.waiting.values()) w.resolve(['ip -batch exited']);
      this.waiting.clear();
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
    const markerLine = ++this.line;
    return new Promise((resolve) => {
      this.waiting.set(markerLine, { cmdLine, resolve });
      this.child!.stdin!.write(`${args.join(' ')}\nlink show dev ${MARKER_DEV}\n`);
    });
  }

  close(): void {
    this.child?.kill();
    this.child = null;
  }
}
