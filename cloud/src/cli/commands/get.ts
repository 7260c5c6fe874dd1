import { yaml } from '../lazy-yaml.ts';
import { formatHostPort } from '#shared/util/ip.ts';
import { displayJson } from '#shared/util/display-json.ts';
import { parseFlags, UsageError, withUsage } from '../args.ts';
import { apiClient, reportApiError } from '../client.ts';
import type { CliIO } from '../io.ts';
import { formatSelected, parseJsonPath, selectJsonPath } from '../jsonpath.ts';
import { table } from '../output.ts';

type SiteRow = { name: string; revision: number; nodes: number; updatedAt: string };
type NodeRow = {
  nodeId: string;
  name: string;
  role: string;
  address: string;
  desiredRevision: number;
  appliedRevision: number | null;
  online: boolean;
  inSync: boolean;
  lastSeen: string | null;
};
type ServiceRow = {
  name: string;
  vip: string | null;
  port: number | null;
  protocol: string;
  fwmark: number | null;
  scheduler: string;
  forwarding: string;
  directors: string[];
  realServers: { address: string; port: number; weight: number; forwarding: string }[];
};

const KINDS = ['sites', 'nodes', 'services'] as const;
type Kind = (typeof KINDS)[number];

/** `-o` of get: kubectl's words; jsonpath carries its expression. */
type GetFormat = { kind: 'table' | 'wide' | 'name' | 'json' | 'yaml' } | { kind: 'jsonpath'; expr: string };

function getFormat(value: string | undefined): GetFormat {
  const v = value ?? 'table';
  if (v.startsWith('jsonpath=')) {
    const expr = v.slice('jsonpath='.length);
    if (!expr) throw new UsageError('-o jsonpath= needs an expression, like jsonpath=$[*].name');
    return { kind: 'jsonpath', expr };
  }
  if (['table', 'wide', 'name', 'json', 'yaml'].includes(v)) return { kind: v as 'table' };
  throw new UsageError(`-o must be one of table, wide, name, json, yaml, jsonpath=EXPR, not "${v}"`);
}

/** Table columns of each kind; `wide` adds the ones after the first `narrow` columns. */
const COLUMNS: { [K in Kind]: { headers: string[]; narrow: number; row: (x: never) => (string | number | null)[] } } = {
  sites: {
    headers: ['NAME', 'REVISION', 'NODES', 'UPDATED'],
    narrow: 4,
    row: (s: SiteRow) => [s.name, s.revision, s.nodes, s.updatedAt],
  },
  nodes: {
    headers: ['NAME', 'ROLE', 'ADDRESS', 'DESIRED', 'APPLIED', 'ONLINE', 'IN SYNC', 'LAST SEEN', 'NODE ID'],
    narrow: 6,
    row: (n: NodeRow) => [
      n.name,
      n.role,
      n.address,
      n.desiredRevision,
      n.appliedRevision,
      n.online ? 'yes' : 'no',
      n.inSync ? 'yes' : 'no',
      n.lastSeen,
      n.nodeId,
    ],
  },
  services: {
    headers: ['NAME', 'VIRTUAL', 'PROTO', 'SCHED', 'FWD', 'REAL SERVERS', 'DIRECTORS'],
    narrow: 6,
    row: (s: ServiceRow) => [
      s.name,
      s.vip === null ? `fwmark ${s.fwmark}` : formatHostPort(s.vip, s.port ?? 0),
      s.protocol,
      s.scheduler,
      s.forwarding,
      s.realServers.map((r) => `${formatHostPort(r.address, r.port)}(w${r.weight})`).join(' '),
      s.directors.join(','),
    ],
  },
};

const SINGULAR: Record<Kind, string> = { sites: 'site', nodes: 'node', services: 'service' };

/** The list in the way `-o` asks. */
function renderList(kind: Kind, items: { name: string }[], format: GetFormat): string {
  switch (format.kind) {
    case 'json':
      return displayJson(items, 2) + '\n';
    case 'yaml':
      return yaml().stringify(items);
    case 'name':
      return items.map((i) => `${SINGULAR[kind]}/${i.name}\n`).join('');
    case 'jsonpath':
      return formatSelected(selectJsonPath(items, parseJsonPath(format.expr)));
    default: {
      const c = COLUMNS[kind];
      const n = format.kind === 'wide' ? c.headers.length : c.narrow;
      return table(
        c.headers.slice(0, n),
        items.map((i) => (c.row as (x: unknown) => (string | number | null)[])(i).slice(0, n)),
      );
    }
  }
}

/** `lvsfleet get sites|nodes|services [--site S] [-o table|wide|name|json|yaml|jsonpath=EXPR]`. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('get', io, async () => {
    const { values, positionals } = parseFlags(argv, { site: { type: 'string' }, output: { type: 'string', short: 'o' } }, true);
    const kind = positionals[0] as Kind | undefined;
    if (!kind || !KINDS.includes(kind) || positionals.length > 1) throw new UsageError(`get what? one of ${KINDS.join(', ')}`);
    const format = getFormat(values.output);
    // A bad expression is bad input before any request is made.
    if (format.kind === 'jsonpath') parseJsonPath(format.expr);
    if (kind !== 'sites' && !values.site) throw new UsageError(`get ${kind} needs --site`);
    const client = apiClient(io);
    const path = kind === 'sites' ? '/v1/sites' : `/v1/sites/${encodeURIComponent(values.site!)}/${kind}`;
    try {
      const answer = await client.call<Record<Kind, { name: string }[]>>('GET', path);
      io.stdout(renderList(kind, answer[kind], format));
      return 0;
    } catch (err) {
      return reportApiError('get', err, io);
    }
  });
}
