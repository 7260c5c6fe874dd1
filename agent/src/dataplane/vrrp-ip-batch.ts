import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Supervisor, type HelperHealth, type HelperRestart, type SupervisorClock } from './supervisor.ts';

/** A device name that never exists: `link show dev` on it always fails, on stderr. */
const MARKER_DEV = 'lvsf-no-such0';

/** What a waiter gets when the batch process died before answering (then the one-shot runs). */
const DIED = Symbol('ip -batch died');

/**
 * One long-lived `ip -o -force -batch -` for VIP changes. Starting `ip` costs 10–30 ms on a
 * loaded host, which is most of a 30 ms-advert failover; keepalived uses netlink from its own
 * process. Each command is followed by a marker command that always fails (`link show dev` of a
 * device that does not exist), so everything this class reads comes in order on ONE stream,
 * stderr: a failed command prints its message and "Command failed -:LINE", then its marker's
 * "Command failed -:LINE+1" closes the command. (Reading errors on stderr and markers on stdout
 * raced: a marker could overtake its command's error.)
 *
 * The helper must never be what keeps a VIP on a stopped director:
 * - it runs in its own process group, so a signal to the agent's group (Ctrl-C, `kill -- -PGID`,
 *   a supervisor signalling the group) does not take it away while the agent releases its VIPs;
 * - every stream error is handled (a dead helper's stdin answers EPIPE), never thrown;
 * - a command the helper could not answer (it died, or could not be written to) is run once more
 *   as a one-shot `ip` process;
 * - the helper is supervised: restarted when it dies (at once, then with back-off if it keeps
 *   dying), logged and reported each time; commands meanwhile go one-shot.
 */
export class IpBatch {
  private line = 0;
  /** Waiters by their marker's line number. */
  private waiting = new Map<number, { cmdLine: number; resolve(errors: string[] | typeof DIED): void }>();
  private sup: Supervisor<ChildProcess>;
  private closed = false;

  constructor(
    private ip = 'ip',
    private log: (line: string) => void = () => {},
    event?: (e: HelperRestart) => void,
    clock?: SupervisorClock,
  ) {
    this.sup = new Supervisor<ChildProcess>({
      name: 'ip-batch',
      start: (exited) => this.start(exited),
      stop: (c) => {
        if (c.pid)
          try {
            process.kill(c.pid, 'SIGTERM');
          } catch {}
      },
      log: (l) => this.log(`vrrp: ${l}`),
      event,
      clock,
    });
  }

  private start(exited: (why: string) => void): ChildProcess {
    // Own process group (detached), but still ends with us: stdin reaches EOF when we die.
    const c = spawn(this.ip, ['-o', '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    this.line = 0;
    // What is read from this helper stays with it: a killed helper's stderr can still drain after
    // its exit, when a fresh helper numbers its lines from 1 again. Read into shared state, an old
    // error answered the new helper's command of the same line number.
    const errors = new Map<number, string>();
    let errBuf = '';
    let message: string[] = [];
    let gone = false;
    c.stderr!.on('data', (d: Buffer) => {
      // Every waiter of a gone helper was answered (DIED, then a one-shot): nothing it says still counts.
      if (gone) return;
      errBuf += d.toString();
      const lines = errBuf.split('\n');
      errBuf = lines.pop()!;
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
          const e = errors.get(w.cmdLine);
          errors.delete(w.cmdLine);
          w.resolve(e ? [e] : []);
        } else errors.set(at, message.join(' ').trim());
        message = [];
      }
    });
    const fail = (why: string) => {
      if (gone) return;
      gone = true;
      // Commands it owed an answer run once more as one-shot `ip` processes (see run()).
      for (const w of this.waiting.values()) w.resolve(DIED);
      this.waiting.clear();
      exited(`ip -batch helper ${why}`);
    };
    c.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    c.on('error', (e) => fail(`failed: ${e.message}`));
    // EPIPE after the helper died: reported through 'exit'; unhandled, it would crash the agent.
    c.stdin!.on('error', (e) => fail(`stdin: ${e.message}`));
    c.stderr!.on('error', () => {});
    return c;
  }

  /** Starts the process ahead of need (at engine start, not on the failover path). */
  warm(): void {
    if (!this.closed) this.sup.ensure();
  }

  /**
   * Runs one `ip` command that prints nothing on success (addr add/del), without the leading
   * `ip`; resolves with its error messages (none = ok). Never rejects.
   */
  async run(args: string[]): Promise<string[]> {
    if (args.some((a) => /[\s"'\\]/.test(a) || a === '')) return [`refusing unsafe ip argument in ${JSON.stringify(args)}`];
    if (this.closed) {
      this.log(`vrrp: ip ${args.join(' ')} after the ip -batch helper was closed: run as its own process`);
      return this.oneShot(args);
    }
    const r = await this.viaBatch(args);
    return r === DIED ? this.oneShot(args) : r;
  }

  private viaBatch(args: string[]): Promise<string[] | typeof DIED> {
    // While the supervisor waits to restart a dying helper, commands go one-shot.
    const c = this.sup.ensure();
    if (!c?.stdin || c.stdin.destroyed || !c.stdin.writable) return Promise.resolve(DIED);
    const cmdLine = ++this.line;
    const markerLine = ++this.line;
    return new Promise((resolve) => {
      this.waiting.set(markerLine, { cmdLine, resolve });
      c.stdin!.write(`${args.join(' ')}\nlink show dev ${MARKER_DEV}\n`, (e) => {
        if (!e) return;
        if (this.waiting.delete(markerLine)) resolve(DIED);
      });
    });
  }

  /** The fallback: the same command as its own `ip` process. */
  private oneShot(args: string[]): Promise<string[]> {
    return new Promise((resolve) => {
      execFile(this.ip, ['-o', ...args], { timeout: 5_000, encoding: 'utf8' }, (e, _out, err) => resolve(e ? [(err || e.message).trim()] : []));
    });
  }

  /** PID of the running helper, if any. */
  pid(): number | undefined {
    return this.sup.current()?.pid;
  }

  health(): HelperHealth {
    return this.sup.health();
  }

  /**
   * Ends the helper (its group included) for good: a command after it runs as its own `ip`
   * process. Restarting the helper then left a child with open pipes that nothing would close,
   * and a stopped agent that never exited (it held its node lock until SIGKILL).
   */
  close(): void {
    this.closed = true;
    this.sup.stop();
  }
}
