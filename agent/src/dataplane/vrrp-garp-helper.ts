import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Gratuitous ARP without a process start on the failover path. Node cannot open AF_PACKET
 * sockets, and `arping` needs 45–60 ms here before its first frame leaves (libpcap set-up),
 * which is most of a 100 ms failover. keepalived sends GARPs from its own process; we do the
 * nearest thing: one long-lived helper, started with the engine, that writes ARP requests
 * (sender = target = VIP, broadcast, RFC 5227 §3 "ARP Announcement") on an AF_PACKET socket
 * when told to on stdin. Where python3 is missing the host falls back to `arping`.
 */
const SCRIPT = `
import socket, sys, time
socks = {}
for line in sys.stdin:
    try:
        iface, ip, count, gap = line.split()
        s = socks.get(iface)
        if s is None:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((iface, 0x0806))
            socks[iface] = s
        mac = bytes.fromhex(open('/sys/class/net/%s/address' % iface).read().strip().replace(':', ''))
        addr = socket.inet_aton(ip)
        frame = b'\\xff' * 6 + mac + b'\\x08\\x06' + b'\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x01' + mac + addr + b'\\x00' * 6 + addr + b'\\x00' * 18
        for i in range(int(count)):
            if i and float(gap) > 0:
                time.sleep(float(gap) / 1000)
            s.send(frame)
        print('ok', iface, ip, flush=True)
    except Exception as e:
        print('err', repr(e).replace('\\n', ' '), flush=True)
`;

export interface GarpHelper {
  /** Sends `count` announcements for `ip` on `iface`; resolves when they are out. */
  send(iface: string, ip: string, count: number, gapMs: number): Promise<void>;
  close(): void;
}

/** Starts the helper, or returns null when no python3 is available. */
export function startGarpHelper(python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null): GarpHelper | null {
  if (!python) return null;
  // Own process group: a signal to the agent's group must not take GARP away mid-failover.
  let child: ChildProcess | null = spawn(python, ['-u', '-c', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
  const waiting: { resolve(): void; reject(e: Error): void }[] = [];
  let buf = '';
  const fail = (why: string) => {
    child = null;
    for (const w of waiting.splice(0)) w.reject(new Error(why));
  };
  child.on('error', (e) => fail(`GARP helper: ${e.message}`));
  child.on('exit', (code) => fail(`GARP helper exited (${code})`));
  // EPIPE once the helper is gone: reported through 'exit', never thrown at the agent.
  child.stdin!.on('error', (e) => fail(`GARP helper: ${e.message}`));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      const w = waiting.shift();
      if (!w) continue;
      if (l.startsWith('ok')) w.resolve();
      else w.reject(new Error(`GARP helper: ${l.slice(4)}`));
    }
  });
  return {
    send(iface, ip, count, gapMs) {
      if (!child || !/^[\w.:-]+$/.test(iface)) return Promise.reject(new Error('GARP helper not running'));
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child!.stdin!.write(`${iface} ${ip} ${count} ${gapMs}\n`);
      });
    },
    close() {
      child?.kill();
      child = null;
    },
  };
}
