import { spawn } from 'node:child_process';
import { isIpv6 } from '#shared/util/ip.ts';

/**
 * The nftables side of holding unsynced connections (see vrrp/sync-daemons.ts for when).
 *
 * A client packet of a connection the old MASTER opened reaches the new MASTER, which holds the
 * VIP as a local address. IPVS hooks NF_INET_LOCAL_IN at priority 99 (NF_IP_PRI_NAT_SRC - 1) and
 * steals every packet of a connection it knows (DR/TUN/NAT transmit); a packet it does not know
 * it lets through, and after the input hooks the local TCP stack, finding no socket, answers with
 * a reset that kills the client's connection. An input chain at priority 101 therefore sees only
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

/** nft tables (`ip` and `ip6`) of one hand-over's copies: `dup` exists only in those families, not in `inet`. */
function handoverTable(name: string): string {
  return `lvsfleet_handover_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Where a new MASTER sends copies of what it holds: the director that handed over, on the link it was heard on. */
export interface HoldForward {
  address: string;
  device: string;
}

/** The TTL (hop limit) a copy leaves with, before nf_dup takes one off it (see below). */
const COPY_TTL = 3;

/** Mid-stream TCP (no SYN, no RST) new or invalid to conntrack: a connection this host never saw. */
const UNSEEN = 'tcp flags & (syn | rst) == 0 ct state new,invalid';

/** Tables created (when absent) and deleted: the script then works whether or not they were there. */
const dropTables = (...tables: string[]) => tables.flatMap((t) => [`table ${t}`, `delete table ${t}`]);

/**
 * The hand-over copies, at priority 100, before the hold (101) drops the original. A copy never
 * bounces: it leaves with TTL COPY_TTL - 1 = 2 (the rule sets 3 on the packet, nf_dup takes one
 * off in the input hook), and only packets with a TTL above 2 are copied. The lingering director
 * delivers it locally (IPVS takes one more off on its way to the real server, which still gets 1);
 * a director that is not lingering (any more) forwards it back onto the link with TTL 1, and the
 * new MASTER then holds that packet without copying it again. A forward-chain drop on the old
 * director would need state there that outlives the linger (a stopped agent keeps none); the TTL
 * needs nothing from the receiver. The counter tells an operator how many copies went.
 */
function handoverChain(fam: 'ip' | 'ip6', table: string, list: string[], to: HoldForward): string[] {
  const ttl = fam === 'ip' ? 'ip ttl' : 'ip6 hoplimit';
  return [
    `table ${fam} ${table} {`,
    '  chain copies {',
    '    type filter hook input priority 100; policy accept;',
    `    ${fam} daddr { ${list.join(', ')} } ${UNSEEN} ${ttl} > ${COPY_TTL - 1} ${ttl} set ${COPY_TTL} counter dup to ${to.address} device ${JSON.stringify(to.device)}`,
    '  }',
    '}',
  ];
}

/**
 * One nft script that replaces the hold's table atomically (created when absent), and removes
 * the copies of an earlier hand-over (copiesRuleset) with it.
 */
export function holdRuleset(name: string, addresses: string[]): string {
  const t = holdTable(name);
  const h = handoverTable(name);
  const v4 = addresses.filter((a) => !isIpv6(a));
  const v6 = addresses.filter(isIpv6);
  const rule = (fam: 'ip' | 'ip6', list: string[]) => (list.length ? [`    ${fam} daddr { ${list.join(', ')} } ${UNSEEN} drop`] : []);
  return [
    ...dropTables(`inet ${t}`, `ip ${h}`, `ip6 ${h}`),
    `table inet ${t} {`,
    '  chain unsynced {',
    '    type filter hook input priority 101; policy accept;',
    ...rule('ip', v4),
    ...rule('ip6', v6),
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The script that adds the copies to the director that handed over (addresses of its family
 * only; empty when there are none), run after holdRuleset and apart from it: a kernel without
 * nft_dup refuses this one, and that must not cost the hold.
 */
export function copiesRuleset(name: string, addresses: string[], forward: HoldForward): string {
  const [fam, list] = isIpv6(forward.address) ? (['ip6', addresses.filter(isIpv6)] as const) : (['ip', addresses.filter((a) => !isIpv6(a))] as const);
  return list.length ? [...handoverChain(fam, handoverTable(name), list, forward), ''].join('\n') : '';
}

/** The script that ends a hold (and its copies): creating each table first makes it idempotent. */
export function releaseRuleset(name: string): string {
  return [...dropTables(`inet ${holdTable(name)}`, `ip ${handoverTable(name)}`, `ip6 ${handoverTable(name)}`), ''].join('\n');
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

  /** null: hold until the next call; a number: release that long from now (0: now); `forward`: see holdRuleset. */
  async set(name: string, addresses: string[], releaseAfterMs: number | null, forward: HoldForward | null = null): Promise<void> {
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
    const copies = forward ? copiesRuleset(name, addresses, forward) : '';
    if (copies) await this.run(copies).catch((e: Error) => Promise.reject(new Error(`copies to ${forward!.address} (the hold is in place): ${e.message}`)));
  }

  /** Stops the timers (a hold left behind is inert without its VIPs and replaced at the next start). */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
