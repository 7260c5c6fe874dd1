import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

interface SiteStatus {
  site: string;
  revision: number;
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

function statusTable(s: SiteStatus): string {
  const rows = s.nodes.map((n) => {
    const down = n.services.flatMap((svc) => svc.realServers.filter((r) => !r.healthy).map((r) => `${svc.name}/${r.address}:${r.port}`));
    const lost = n.services.filter((svc) => !svc.quorum).map((svc) => svc.name);
    return [
      n.name,
      n.role,
      n.online ? 'online' : 'offline',
      n.desiredRevision,
      n.appliedRevision,
      n.inSync ? 'yes' : 'no',
      n.vrrp.map((v) => `${v.instance}=${v.state}`).join(' '),
      [...down.map((d) => `down ${d}`), ...lost.map((l) => `no quorum ${l}`), ...n.errors].join('; '),
    ];
  });
  let out = `site ${s.site}  revision ${s.revision}\n`;
  out += table(['NODE', 'ROLE', 'STATE', 'DESIRED', 'APPLIED', 'IN SYNC', 'VRRP', 'PROBLEMS'], rows);
  if (s.events.length) {
    out += '\nrecent events:\n';
    for (const e of s.events.slice(0, 10)) out += `  ${e.at}  ${e.nodeId ?? '-'}  ${e.type}  ${JSON.stringify(e.data)}\n`;
  }
  return out;
}

/** `lvsfleet status [SITE] [-o table|json|yaml]`: every site's status when no site is named. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('status', io, async () => {
    const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' } }, true);
    if (positionals.length > 1) throw new UsageError('status takes at most one site');
    const format = outputFormat(values.output);
    const client = apiClient(io);
    try {
      const names = positionals.length ? positionals : (await client.call<{ sites: { name: string }[] }>('GET', '/v1/sites')).sites.map((s) => s.name);
      const all: SiteStatus[] = [];
      for (const name of names) all.push(await client.call<SiteStatus>('GET', `/v1/sites/${encodeURIComponent(name)}/status`));
      const data = positionals.length ? all[0] : all;
      io.stdout(render(format, data, () => (all.length ? all.map(statusTable).join('\n') : 'no sites yet: lvsfleet apply -f SITE.yaml\n')));
      return 0;
    } catch (err) {
      return reportApiError('status', err, io);
    }
  });
}
