import { compileSite } from '#shared/compiler/compile.ts';
import type { Site } from '#shared/site/site.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { countMassDelete, type MassDeleteCount, type ServerSets } from '#shared/ipvs/mass-delete.ts';

/** Names added, removed and changed between two revisions of one kind of thing. */
interface Change {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface SiteDiff {
  /** Nothing at all differs (same canonical spec). */
  unchanged: boolean;
  nodes: Change;
  services: Change;
  /** Keys `service/address:port`. */
  realServers: Change;
  vrrp: Change;
  /** Nodes whose compiled config (what gets published) is new, gone or different. */
  nodeConfigs: Change;
  /** The one blast-radius rule (`#shared/ipvs/mass-delete.ts`), counted over the spec. */
  massDelete: MassDeleteCount;
}

function changes(before: Map<string, string>, after: Map<string, string>): Change {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort();
  return { added, removed, changed };
}

const byName = <T extends { name: string }>(items: readonly T[] | undefined) => new Map((items ?? []).map((i) => [i.name, canonicalJson(i)]));

/** Service name → (`service/address:port` → the real server's canonical JSON). */
function realServersByService(site: Site | null): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (!site) return out;
  const addressOf = new Map(site.spec.nodes.map((n) => [n.name, n.address]));
  for (const svc of site.spec.services ?? []) {
    const mine = new Map<string, string>();
    for (const rs of svc.realServers) {
      const address = rs.address ?? (rs.node ? addressOf.get(rs.node) : undefined) ?? '?';
      mine.set(`${svc.name}/${address}:${rs.port ?? svc.port ?? 0}`, canonicalJson(rs));
    }
    out.set(svc.name, mine);
  }
  return out;
}

const realServers = (byService: Map<string, Map<string, string>>) => new Map([...byService.values()].flatMap((m) => [...m]));

/** Service name → its real-server keys: the sets the mass-delete rule counts. */
const serverSets = (byService: Map<string, Map<string, string>>): ServerSets => new Map([...byService].map(([name, m]) => [name, new Set(m.keys())]));

function compiled(site: Site | null): Map<string, string> {
  if (!site) return new Map();
  return new Map([...compileSite(site)].map(([name, cfg]) => [name, canonicalJson(cfg)]));
}

/**
 * What applying `next` over `prev` (null: a new site) changes, at spec level and per compiled
 * node config. Pure; used by dry runs, `lvsfleet diff` and the mass-delete guard.
 */
export function diffSites(prev: Site | null, next: Site): SiteDiff {
  const services = changes(byName(prev?.spec.services), byName(next.spec.services));
  const before = realServersByService(prev);
  const after = realServersByService(next);
  const rs = changes(realServers(before), realServers(after));
  return {
    unchanged: prev !== null && canonicalJson(prev) === canonicalJson(next),
    nodes: changes(byName(prev?.spec.nodes), byName(next.spec.nodes)),
    services,
    realServers: rs,
    vrrp: changes(byName(prev?.spec.vrrp), byName(next.spec.vrrp)),
    nodeConfigs: changes(compiled(prev), compiled(next)),
    massDelete: countMassDelete(serverSets(before), serverSets(after)),
  };
}

/** One line per change, `+`/`-`/`~` then kind and name; "no changes" when there are none. */
export function formatDiff(diff: SiteDiff): string {
  const lines: string[] = [];
  const kinds: [string, Change][] = [
    ['node', diff.nodes],
    ['vrrp', diff.vrrp],
    ['service', diff.services],
    ['realserver', diff.realServers],
    ['config', diff.nodeConfigs],
  ];
  for (const [kind, c] of kinds) {
    for (const n of c.added) lines.push(`+ ${kind} ${n}`);
    for (const n of c.removed) lines.push(`- ${kind} ${n}`);
    for (const n of c.changed) lines.push(`~ ${kind} ${n}`);
  }
  return lines.length ? lines.join('\n') : 'no changes';
}
