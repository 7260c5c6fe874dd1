import { isIpv6 } from '#shared/util/ip.ts';

/**
 * The Linux side of a MASTER lingering after a graceful hand-over (see vrrp/sync-daemons.ts for
 * when): for a few seconds after its VIPs are removed it still delivers packets addressed to them
 * locally, where IPVS forwards those of connections it knows (one still in SYN_RECV here sees its
 * handshake end, becomes ESTABLISHED and is synced to the new MASTER), and the hold drops the rest.
 *
 * A policy rule sends lookups for each VIP to a table of its own holding a `local` route on lo,
 * so the VIP is local to routing without being an address of any interface. ARP would still
 * answer for it (arp_process asks routing whether the target is local, and arp_ignore 0 answers
 * for any local target), which would pull clients back from the new MASTER, so an nft `arp`
 * table drops requests for the VIPs. IPv6 neighbour discovery answers only for addresses
 * configured on an interface, so an IPv6 VIP needs no such table.
 */

/** Routing table of the lingering VIPs' local routes (one for the host; routes are per VIP). */
export const LINGER_TABLE = 7911;
/** Priority of the policy rules: after the local table (0), before main (32766). */
const LINGER_RULE_PRIORITY = 7911;

/** nft table that keeps ARP quiet for one instance's lingering VIPs. */
export function lingerArpTable(name: string): string {
  return `lvsfleet_linger_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** One nft script that replaces the ARP table (created when absent); none is made without IPv4 VIPs. */
export function lingerArpRuleset(name: string, addresses: string[]): string {
  const t = lingerArpTable(name);
  const v4 = addresses.filter((a) => !isIpv6(a));
  return [
    `table arp ${t}`,
    `delete table arp ${t}`,
    ...(v4.length
      ? [
          `table arp ${t} {`,
          '  chain input {',
          '    type filter hook input priority 0; policy accept;',
          `    arp operation request arp daddr ip { ${v4.join(', ')} } drop`,
          '  }',
          '}',
        ]
      : []),
    '',
  ].join('\n');
}

/**
 * `ip` arguments that make the VIPs local to routing (`add`) or stop it (`del`). `add` replaces
 * the route and adds the rule: the caller treats "File exists" (a rule left by an earlier linger)
 * and, for `del`, a missing rule, route or table as done. An IPv6 VIP's commands start with `-6`:
 * `ip rule` does not take the family from the address (it refuses an IPv6 one without it), and
 * `ip -batch` lines take no options, so those run as processes of their own.
 */
export function lingerIpCommands(addresses: string[], op: 'add' | 'del'): string[][] {
  return addresses.flatMap((a) => {
    const prefix = `${a}/${isIpv6(a) ? 128 : 32}`;
    const fam = isIpv6(a) ? ['-6'] : [];
    const rule = [...fam, 'rule', op, 'to', prefix, 'lookup', String(LINGER_TABLE), 'priority', String(LINGER_RULE_PRIORITY)];
    const route = [...fam, 'route', op === 'add' ? 'replace' : 'del', 'local', prefix, 'dev', 'lo', 'table', String(LINGER_TABLE)];
    // Route first when adding, rule first when removing: the rule never points at a missing route.
    return op === 'add' ? [route, rule] : [rule, route];
  });
}

/** What `ip rule/route` answers for an add already done or a delete of something absent. */
export const LINGER_IDEMPOTENT = /File exists|No such file or directory|No such process|FIB table does not exist/;

/**
 * What an agent's first linger change sweeps away: every rule to the linger table (`ip -j rule
 * show table 7911` of each family) with its route, and every linger ARP table (`nft list tables
 * arp`). An agent that died while lingering left them, maybe for a VIP a revision has since
 * removed: such a leftover keeps the VIP local to routing, and a director answers ARP for any
 * local address, pulling clients away from the real MASTER.
 */
export function lingerSweep(rules4: string, rules6: string, arpTables: string): { ip: string[][]; nft: string } {
  const rules = (json: string, fam: string[]) => {
    let list: unknown;
    try {
      list = JSON.parse(json || '[]');
    } catch {
      return [];
    }
    if (!Array.isArray(list)) return [];
    return list.flatMap((r: { priority?: unknown; dst?: unknown; dstlen?: unknown; table?: unknown }) => {
      if (String(r.table) !== String(LINGER_TABLE) || typeof r.dst !== 'string' || r.dst === 'all') return [];
      // iproute2 leaves out dstlen for a host prefix (/32, /128), which is what a linger adds.
      const to = `${r.dst}/${typeof r.dstlen === 'number' ? r.dstlen : isIpv6(r.dst) ? 128 : 32}`;
      const priority = typeof r.priority === 'number' ? ['priority', String(r.priority)] : [];
      return [
        [...fam, 'rule', 'del', 'to', to, 'lookup', String(LINGER_TABLE), ...priority],
        [...fam, 'route', 'del', 'local', to, 'dev', 'lo', 'table', String(LINGER_TABLE)],
      ];
    });
  };
  const tables = [...arpTables.matchAll(/^table arp (lvsfleet_linger_\w+)$/gm)].map((m) => m[1]);
  return { ip: [...rules(rules4, []), ...rules(rules6, ['-6'])], nft: tables.map((t) => `delete table arp ${t}\n`).join('') };
}

/** How a host reads what lingerSweep sweeps; each answer '' when it cannot be read. */
export interface LingerReads {
  rules(family: 4 | 6): Promise<string>;
  arpTables(): Promise<string>;
}

/** The lingers of one host: each set replaces the last for its name; the timed end is a timer here. */
export class VipLingers {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; addresses: string[] }>();
  /** Changes run one after another: a timed end must not overtake the linger that followed it. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly nft: (script: string) => Promise<void>,
    /** Runs `ip` commands in order, answering the error lines that are not LINGER_IDEMPOTENT. */
    private readonly ip: (commands: string[][]) => Promise<string[]>,
    /** Without it, nothing is swept (a host that cannot list rules). */
    private readonly reads?: LingerReads,
  ) {}

  private swept = false;

  /** Once, before this process's first linger change (at the latest its first instance's start). */
  private async sweep(errors: string[]): Promise<void> {
    if (this.swept || !this.reads) return;
    this.swept = true;
    const r = this.reads;
    const [r4, r6, tables] = await Promise.all([r.rules(4), r.rules(6), r.arpTables()].map((p) => p.catch(() => '')));
    const plan = lingerSweep(r4, r6, tables);
    errors.push(...(await this.ip(plan.ip)));
    if (plan.nft) await this.nft(plan.nft).catch((e: Error) => errors.push(e.message));
  }

  private apply(name: string, addresses: string[], on: boolean): Promise<void> {
    const p = this.chain.then(async () => {
      const errors: string[] = [];
      await this.sweep(errors);
      // ARP is quiet before the VIPs become local to routing, and stays so until they are not.
      if (on) await this.nft(lingerArpRuleset(name, addresses)).catch((e: Error) => errors.push(e.message));
      errors.push(...(await this.ip(lingerIpCommands(addresses, on ? 'add' : 'del'))));
      if (!on) await this.nft(lingerArpRuleset(name, [])).catch((e: Error) => errors.push(e.message));
      if (errors.length) throw new Error(errors.join('; '));
    });
    this.chain = p.catch(() => {});
    return p;
  }

  /** `releaseAfterMs` > 0: linger that long from now; 0: end it now (also what a start does). */
  async set(name: string, addresses: string[], releaseAfterMs: number): Promise<void> {
    const pending = this.timers.get(name);
    if (pending) clearTimeout(pending.timer);
    this.timers.delete(name);
    if (releaseAfterMs <= 0 || !addresses.length) return this.apply(name, addresses, false);
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.apply(name, addresses, false).catch(() => {});
    }, releaseAfterMs);
    timer.unref();
    this.timers.set(name, { timer, addresses });
    await this.apply(name, addresses, true);
  }

  /**
   * Ends every linger now, and waits for changes already on their way (a stop's own end of a
   * linger): a closing agent leaves none behind, and its host closes `ip -batch` only after them.
   */
  async close(): Promise<void> {
    const open = [...this.timers.entries()];
    this.timers.clear();
    for (const [, { timer }] of open) clearTimeout(timer);
    await Promise.allSettled(open.map(([name, { addresses }]) => this.apply(name, addresses, false)));
    await this.chain;
  }
}
