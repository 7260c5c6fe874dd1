import { compileSite } from '#shared/compiler/compile.ts';
import type { Site } from '#shared/site/site.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';

/** Names added, removed and changed between two revisions of one kind of thing. */
interface Change {
  added: string[];
  removed: string[];
  changed: string[];
}

interface MassDelete {
  services: { removed: number; total: number };
  realServers: { removed: number; total: number };
  /** More than half of the services or of the real servers would go (docs/architecture.md, "Blast radius"). */
  exceeded: boolean;
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
  massDelete: MassDelete;
}

function changes(before: Map<string, string>, after: Map<string, string>): Change {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort();
  return { added, removed, changed };
}

const byName = <T extends { name: string }>(items: readonly T[] | undefined) => new Map((items ?? []).map((i) => [i.name, canonicalJson(i)]));

function realServers(site: Site | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!site) return out;
  const addressOf = new Map(site.spec.nodes.map((n) => [n.name, n.address]));
  for (const svc of site.spec.services ?? []) {
    for (const rs of svc.realServers) {
      const address = rs.address ?? (rs.node ? addressOf.get(rs.node) : undefined) ?? '?';
      out.set(`${svc.name}/${address}:${rs.port ?? svc.port ?? 0}`, canonicalJson(rs));
    }
  }
  return out;
}

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
  const rsBefore = realServers(prev);
  const rs = changes(rsBefore, realServers(next));
  const totalServices = prev?.spec.services?.length ?? 0;
  const over = (removed: number, total: number) => total > 0 && removed * 2 > total;
  return {
    unchanged: prev !== null && canonicalJson(prev) === canonicalJson(next),
    nodes: changes(byName(prev?.spec.nodes), byName(next.spec.nodes)),
    services,
    realServers: rs,
    vrrp: changes(byName(prev?.spec.vrrp), byName(next.spec.vrrp)),
    nodeConfigs: changes(compiled(prev), compiled(next)),
    massDelete: {
      services: { removed: services.removed.length, total: totalServices },
      realServers: { removed: rs.removed.length, total: rsBefore.size },
      exceeded: over(services.removed.length, totalServices) || over(rs.removed.length, rsBefore.size),
    },
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
