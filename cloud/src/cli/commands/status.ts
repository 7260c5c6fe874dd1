import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

interface Reason {
  code: string;
  subject: string;
  text: string;
}

interface SiteStatus {
  site: string;
  revision: number;
  /** The status model's word for the site (operational, degraded_performance, …, unknown). */
  state: string;
  since: string | null;
  reasons: Reason[];
  nodes: {
    name: string;
    role: string;
    online: boolean;
    desiredRevision: number;
    appliedRevision: number | null;
    inSync: boolean;
    vrrp: { instance: string; state: string }[];
    services: { name: string; quorum: boolean; realServers: { address: string; port: number; healthy: boolean }[] }[];
    errors: string[];
  }[];
  events: { nodeId: string | null; type: string; at: string; data: Record<string, unknown> }[];
}

/** The model's reasons about a node, or that name it (its VRRP instances, the real servers it checks). */
function problemsOf(s: SiteStatus, node: string): string {
  const own = s.reasons.filter((r) => r.subject === `node:${node}`).map((r) => r.text);
  const named = s.reasons
    .filter(
      (r) => r.subject !== `node:${node}` && !r.subject.startsWith('node:') && new RegExp(`\\b${node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(r.text),
    )
    .map((r) => r.text);
  return [...own, ...named].join('; ');
}

function statusTable(s: SiteStatus): string {
  const rows = s.nodes.map((n) => {
    return [
      n.name,
      n.role,
      n.online ? 'online' : 'offline',
      n.desiredRevision,
      n.appliedRevision,
      n.inSync ? 'yes' : 'no',
      n.vrrp.map((v) => `${v.instance}=${v.state}`).join(' '),
      problemsOf(s, n.name) || '-',
    ];
  });
  let out = `site ${s.site}  ${s.state.toUpperCase()}${s.since ? ` since ${s.since}` : ''}  revision ${s.revision}\n`;
  out += table(['NODE', 'ROLE', 'STATE', 'DESIRED', 'APPLIED', 'IN SYNC', 'VRRP', 'PROBLEMS'], rows);
  if (s.reasons.length) {
    out += '\nwhy:\n';
    for (const r of s.reasons) out += `  ${r.code.padEnd(20)} ${r.text}\n`;
  }
  if (s.events.length) {
    out += '\nrecent events:\n';
    for (const e of s.events.slice(0, 10)) out += `  ${e.at}  ${e.nodeId ?? '-'}  ${e.type}  ${JSON.stringify(e.data)}\n`;
  }
  return out;
}

/**
 * `lvsfleet status [SITE] [-o table|json|yaml] [--exit-code]`: every site's status when no site
 * is named. With --exit-code it exits 3 when a site is not operational (for scripts and checks).
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('status', io, async () => {
    const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' }, 'exit-code': { type: 'boolean' } }, true);
    if (positionals.length > 1) throw new UsageError('status takes at most one site');
    const format = outputFormat(values.output);
    const client = apiClient(io);
    try {
      const names = positionals.length ? positionals : (await client.call<{ sites: { name: string }[] }>('GET', '/v1/sites')).sites.map((s) => s.name);
      const all: SiteStatus[] = [];
      for (const name of names) all.push(await client.call<SiteStatus>('GET', `/v1/sites/${encodeURIComponent(name)}/status`));
      const data = positionals.length ? all[0] : all;
      io.stdout(render(format, data, () => (all.length ? all.map(statusTable).join('\n') : 'no sites yet: lvsfleet apply -f SITE.yaml\n')));
      return values['exit-code'] && all.some((s) => s.state !== 'operational') ? 3 : 0;
    } catch (err) {
      return reportApiError('status', err, io);
    }
  });
}
