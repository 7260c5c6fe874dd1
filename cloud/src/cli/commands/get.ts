import { outputFormat, parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { render, table } from '../output.ts';

type SiteRow = { name: string; revision: number; nodes: number; updatedAt: string };
type NodeRow = { name: string; role: string; address: string; desiredRevision: number; appliedRevision: number | null; online: boolean; inSync: boolean };
type ServiceRow = {
  name: string;
  vip: string | null;
  port: number | null;
  protocol: string;
  fwmark: number | null;
  scheduler: string;
  forwarding: string;
  realServers: { address: string; port: number; weight: number }[];
};

const KINDS = ['sites', 'nodes', 'services'] as const;

/** `lvsfleet get sites|nodes|services [--site S] [-o table|json|yaml]`. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('get', io, async () => {
    const { values, positionals } = parseFlags(argv, { site: { type: 'string' }, output: { type: 'string', short: 'o' } }, true);
    const kind = positionals[0] as (typeof KINDS)[number] | undefined;
    if (!kind || !KINDS.includes(kind) || positionals.length > 1) throw new UsageError(`get what? one of ${KINDS.join(', ')}`);
    const format = outputFormat(values.output);
    if (kind !== 'sites' && !values.site) throw new UsageError(`get ${kind} needs --site`);
    const client = apiClient(io);
    try {
      if (kind === 'sites') {
        const { sites } = await client.call<{ sites: SiteRow[] }>('GET', '/v1/sites');
        io.stdout(
          render(format, sites, () =>
            table(
              ['NAME', 'REVISION', 'NODES', 'UPDATED'],
              sites.map((s) => [s.name, s.revision, s.nodes, s.updatedAt]),
            ),
          ),
        );
      } else if (kind === 'nodes') {
        const { nodes } = await client.call<{ nodes: NodeRow[] }>('GET', `/v1/sites/${encodeURIComponent(values.site!)}/nodes`);
        io.stdout(
          render(format, nodes, () =>
            table(
              ['NAME', 'ROLE', 'ADDRESS', 'DESIRED', 'APPLIED', 'ONLINE'],
              nodes.map((n) => [n.name, n.role, n.address, n.desiredRevision, n.appliedRevision, n.online ? 'yes' : 'no']),
            ),
          ),
        );
      } else {
        const { services } = await client.call<{ services: ServiceRow[] }>('GET', `/v1/sites/${encodeURIComponent(values.site!)}/services`);
        io.stdout(
          render(format, services, () =>
            table(
              ['NAME', 'VIRTUAL', 'PROTO', 'SCHED', 'FWD', 'REAL SERVERS'],
              services.map((s) => [
                s.name,
                s.vip === null ? `fwmark ${s.fwmark}` : `${s.vip}:${s.port}`,
                s.protocol,
                s.scheduler,
                s.forwarding,
                s.realServers.map((r) => `${r.address}:${r.port}(w${r.weight})`).join(' '),
              ]),
            ),
          ),
        );
      }
      return 0;
    } catch (err) {
      return reportApiError('get', err, io);
    }
  });
}
