import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Supervisor, type HelperHealth, type HelperRestart, type SupervisorClock } from './supervisor.ts';

/**
 * Gratuitous ARP (and, for IPv6 VIPs, unsolicited Neighbor Advertisements, whose frames the agent
 * builds: `encodeUnsolicitedNa`) without a process start on the failover path. Node cannot open AF_PACKET
 * sockets, and `arping` needs 45–60 ms here before its first frame leaves (libpcap set-up),
 * which is most of a 100 ms failover. keepalived sends GARPs from its own process; we do the
 * nearest thing: one long-lived helper, started with the engine, that writes ARP requests
 * (sender = target = VIP, broadcast, RFC 5227 §3 "ARP Announcement") on an AF_PACKET socket
 * when told to on stdin.
 *
 * The script first opens a throw-away AF_PACKET socket and prints `ready` (or `err …` and exits
 * 3): that is the start-up probe of "can this host send GARPs without arping". A socket cached per
 * interface keeps a pending error after a link went down (ENETDOWN on the next send, although the
 * link is up again), so a failed send closes that socket and retries once on a fresh one before
 * reporting the error.
 */
const SCRIPT = `
import socket, sys, time
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
except Exception as e:
    print('err', repr(e).replace('\\n', ' '), flush=True)
    sys.exit(3)
print('ready', flush=True)
socks = {}
def sock(iface):
    s = socks.get(iface)
    if s is None:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((iface, 0x0806))
        socks[iface] = s
    return s
for line in sys.stdin:
    try:
        parts = line.split()
        if parts[0] == 'frame':
            # A whole frame built by the agent (an IPv6 unsolicited Neighbor Advertisement).
            _, iface, ip, count, gap, frame = parts
            frame = bytes.fromhex(frame)
        else:
            iface, ip, count, gap = parts
            mac = bytes.fromhex(open('/sys/class/net/%s/address' % iface).read().strip().replace(':', ''))
            addr = socket.inet_aton(ip)
            frame = b'\\xff' * 6 + mac + b'\\x08\\x06' + b'\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x01' + mac + addr + b'\\x00' * 6 + addr + b'\\x00' * 18
        sent, retried = 0, 0
        while sent < int(count):
            if sent and float(gap) > 0:
                time.sleep(float(gap) / 1000)
            try:
                sock(iface).send(frame)
            except OSError:
                old = socks.pop(iface, None)
                if old is not None:
                    old.close()
                if retried:
                    raise
                retried = 1
                sock(iface).send(frame)
            sent += 1
        print('ok', iface, ip, 'retried' if retried else '', flush=True)
    except Exception as e:
        print('err', repr(e).replace('\\n', ' '), flush=True)
`;

interface Waiter {
  resolve(retried: boolean): void;
  reject(e: Error): void;
}

/** One helper process and the sends it still owes an answer. */
interface HelperProc {
  child: ChildProcess;
  waiting: Waiter[];
}

export interface GarpHelperOptions {
  /** python3 to run the helper with; null = none on this host. */
  python?: string | null;
  log?(line: string): void;
  event?(e: HelperRestart): void;
  clock?: SupervisorClock;
}

const defaultPython = (): string | null => (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null);

/**
 * The supervised GARP helper: restarted whenever it dies (killed, crashed), with back-off when it
 * keeps dying. A send while it is down rejects at once so the caller can use its fallback for that
 * one burst; nothing is ever switched off for good.
 */
export class GarpHelper {
  private sup: Supervisor<HelperProc>;
  private python: string | null;
  private firstReady: Promise<string | null> | null = null;
  private onFirst: ((why: string | null) => void) | null = null;
  /** Why the helper cannot run here (probe failed), or null. */
  private unusable: string | null = null;

  constructor(private o: GarpHelperOptions = {}) {
    this.python = o.python === undefined ? defaultPython() : o.python;
    this.sup = new Supervisor<HelperProc>({
      name: 'garp-helper',
      start: (exited) => this.spawn(exited),
      stop: (p) => p.child.kill(),
      log: (l) => o.log?.(`vrrp: ${l}`),
      event: o.event,
      clock: o.clock,
    });
    if (!this.python) {
      this.unusable = 'no python3';
      this.sup.markAbsent(this.unusable);
    }
  }

  /**
   * Starts the helper and resolves with null once it can send, or with why it cannot (no python3,
   * no AF_PACKET permission): then it is marked absent and not restarted.
   */
  start(): Promise<string | null> {
    if (this.unusable) return Promise.resolve(this.unusable);
    if (this.firstReady) return this.firstReady;
    this.firstReady = new Promise((resolve) => (this.onFirst = resolve));
    this.sup.ensure();
    return this.firstReady;
  }

  private spawn(exited: (why: string) => void): HelperProc {
    // Own process group: a signal to the agent's group must not take GARP away mid-failover.
    const child = spawn(this.python!, ['-u', '-c', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const p: HelperProc = { child, waiting: [] };
    let buf = '';
    let ready = false;
    let probeError: string | null = null;
    let gone = false;
    const fail = (why: string) => {
      if (gone) return;
      gone = true;
      for (const w of p.waiting.splice(0)) w.reject(new Error(`GARP helper ${why}`));
      if (!ready && this.onFirst) {
        // The very first instance could not start: the probe failed, do not loop on it.
        const first = this.onFirst;
        this.onFirst = null;
        this.unusable = probeError ?? why;
        this.sup.stop();
        this.sup.markAbsent(this.unusable);
        first(this.unusable);
        return;
      }
      exited(why);
    };
    child.on('error', (e) => fail(`failed: ${e.message}`));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    // EPIPE once the helper is gone: reported through 'exit', never thrown at the agent.
    child.stdin!.on('error', () => {});
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (!ready) {
          if (l === 'ready') {
            ready = true;
            const first = this.onFirst;
            this.onFirst = null;
            first?.(null);
          } else probeError = l.replace(/^err /, '');
          continue;
        }
        const w = p.waiting.shift();
        if (!w) continue;
        if (l.startsWith('ok')) w.resolve(l.endsWith('retried'));
        else w.reject(new Error(`GARP helper: ${l.slice(4)}`));
      }
    });
    return p;
  }

  /**
   * Sends `count` announcements for `ip` on `iface`; resolves when they are out (true when the
   * helper had to retry on a fresh socket), rejects when the helper is down or the send failed twice.
   */
  send(iface: string, ip: string, count: number, gapMs: number): Promise<boolean> {
    if (!/^[\w.:-]+$/.test(iface) || !/^[\d.]+$/.test(ip)) return Promise.reject(new Error(`GARP helper: refusing ${iface} ${ip}`));
    return this.request(`${iface} ${ip} ${count} ${gapMs}`);
  }

  /**
   * Sends a whole Ethernet frame `count` times on `iface` (the Neighbor Advertisements of an IPv6
   * VIP, `for` naming it in the answer); resolves and rejects as `send`.
   */
  sendFrame(iface: string, forAddress: string, frame: Buffer, count: number, gapMs: number): Promise<boolean> {
    if (!/^[\w.:-]+$/.test(iface) || !/^[\da-f:.]+$/i.test(forAddress) || frame.length > 1514)
      return Promise.reject(new Error(`GARP helper: refusing frame for ${iface} ${forAddress}`));
    return this.request(`frame ${iface} ${forAddress} ${count} ${gapMs} ${frame.toString('hex')}`);
  }

  private request(line: string): Promise<boolean> {
    const p = this.unusable ? null : this.sup.ensure();
    if (!p || !p.child.stdin?.writable) return Promise.reject(new Error(`GARP helper not running (${this.unusable ?? this.sup.health().state})`));
    return new Promise((resolve, reject) => {
      p.waiting.push({ resolve, reject });
      p.child.stdin!.write(`${line}\n`);
    });
  }

  /** PID of the running helper (tests and the lab find it by command line instead). */
  pid(): number | undefined {
    return this.sup.current()?.child.pid;
  }

  health(): HelperHealth {
    return this.sup.health();
  }

  close(): void {
    this.sup.stop();
    this.firstReady = null;
  }
}
