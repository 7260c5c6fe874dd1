import { spawn } from 'node:child_process';
import { isIpv6 } from '#shared/util/ip.ts';

/**
 * The nftables side of holding unsynced connections (see vrrp/sync-daemons.ts for when).
 *
 * A client packet of a connection the old MASTER opened reaches the new MASTER, which holds the
 * VIP as a local address. IPVS hooks NF_INET_LOCAL_IN at priority 99 (NF_IP_PRI_NAT_SRC - 1) and
 * steals every packet of a connection it knows (DR/TUN/NAT transmit); a packet it does not know
 * it lets through, and after the input hooks the local TCP stack, finding no socket, answers with
 * a reset that kills the client's connection. An input chain at priority 100 therefore sees only
 * what IPVS left alone. Dropping there what is mid-stream (no SYN, no RST) and new or invalid to
 * conntrack (a connection this host never saw) makes the client retransmit instead; once connection
 * sync has carried the entry, the retransmission is IPVS's. Packets IPVS delivers to a local real
 * server (a sorry server on 127.0.0.1) are untracked by IPVS, and a local socket's own connections
 * are established to conntrack: neither matches.
 */

/** nft table of one hold (one per VRRP instance); names keep to nft's identifier characters. */
export function holdTable(name: string): string {
  return `lvsfleet_hold_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** One nft script that replaces the hold's table atomically (created when absent). */
export function holdRuleset(name: string, addresses: string[]): string {
  const t = holdTable(name);
  const v4 = addresses.filter((a) => !isIpv6(a));
  const v6 = addresses.filter(isIpv6);
  const rule = (fam: 'ip' | 'ip6', list: string[]) =>
    list.length ? [`    ${fam} daddr { ${list.join(', ')} } tcp flags & (syn | rst) == 0 ct state new,invalid drop`] : [];
  return [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    '  chain unsynced {',
    '    type filter hook input priority 100; policy accept;',
    ...rule('ip', v4),
    ...rule('ip6', v6),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The script that ends a hold: creating the table first makes it idempotent. */
export function releaseRuleset(name: string): string {
  const t = holdTable(name);
  return `table inet ${t}\ndelete table inet ${t}\n`;
}

/** Runs one nft script from stdin. */
export function nftScript(nft: string): (script: string) => Promise<void> {
  return (script) =>
    new Promise((resolve, reject) => {
      const child = spawn(nft, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      let timedOut = false;
      const timer = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), 30_000);
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', (e) => (clearTimeout(timer), reject(e)));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve();
        const how = timedOut ? 'no answer in 30 s' : signal ? `killed by ${signal}` : `exit ${code}`;
        reject(new Error(`nft: ${err.trim() || how}`));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(script);
    });
}

/** The holds of one host: each set replaces the last for its name; a timed release is a timer here. */
export class UnsyncedHolds {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** nft runs one after another: a timed release must not overtake the hold that followed it. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly nft: (script: string) => Promise<void>) {}

  private run(script: string): Promise<void> {
    const p = this.chain.then(() => this.nft(script));
    this.chain = p.catch(() => {});
    return p;
  }

  /** null: hold until the next call; a number: release that long from now (0: now). */
  async set(name: string, addresses: string[], releaseAfterMs: number | null): Promise<void> {
    const pending = this.timers.get(name);
    if (pending) clearTimeout(pending);
    this.timers.delete(name);
    if (releaseAfterMs === 0 || !addresses.length) return this.run(releaseRuleset(name));
    // The release is armed now, not after nft returns (seconds on a starved host): a hold asked for
    // meanwhile must be able to cancel it.
    if (releaseAfterMs !== null) {
      const timer = setTimeout(() => {
        this.timers.delete(name);
        this.run(releaseRuleset(name)).catch(() => {});
      }, releaseAfterMs);
      timer.unref();
      this.timers.set(name, timer);
    }
    // Replaced even when present: the addresses may have changed, and the swap is atomic.
    await this.run(holdRuleset(name, addresses));
  }

  /** Stops the timers (a hold left behind is inert without its VIPs and replaced at the next start). */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
