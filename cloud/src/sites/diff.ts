import { compileSite } from '#shared/compiler/compile.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import type { Site } from '#shared/site/site.ts';
import { byName } from '#shared/site/by-name.ts';
import { jsonEqual } from '#shared/util/json-equal.ts';
import { countMassDelete, type MassDeleteCount } from '#shared/ipvs/mass-delete.ts';
import { plural } from '#shared/util/plural.ts';
import { fieldChanges, formatFieldChange, type FieldChange } from '#shared/util/field-diff.ts';

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
  /** Field by field, each changed object of the spec: `site` (other spec fields), `node`, `vrrp`, `service`. */
  objectFields: { kind: string; name: string; changes: FieldChange[] }[];
  /** Field by field, each node's compiled config that changed (empty when `configFieldsOmitted`). */
  configFields: { node: string; changes: FieldChange[] }[];
  /**
   * How many changed configs have no field changes listed: a large change of an applied revision
   * is answered as names only (ask for `diff=full`, or a dry run, for every field).
   */
  configFieldsOmitted?: number;
  /** The one blast-radius rule (`#shared/ipvs/mass-delete.ts`), counted over the spec. */
  massDelete: MassDeleteCount;
}

/** Keys added, removed and changed between two maps; values compared as JSON (hashes and texts by ===). */
function changes<T>(before: ReadonlyMap<string, T>, after: ReadonlyMap<string, T>): Change {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after.keys()].filter((k) => before.has(k) && !jsonEqual(before.get(k), after.get(k))).sort();
  return { added, removed, changed };
}

// Objects compared as JSON values, not as canonical texts: a 10,000-node site's diff wrote both
// revisions' nodes, services and real servers out only to compare them.
const named = <T extends { name: string }>(items: readonly T[] | undefined): ReadonlyMap<string, T> => byName(items ?? []);

type Service = NonNullable<Site['spec']['services']>[number];
type RealServer = Service['realServers'][number];

/** Node name → node: its address is what a real server named by its node is keyed by. */
const nodesOf = (site: Site | null): ReadonlyMap<string, { address: string }> => byName(site?.spec.nodes ?? []);

/** One service's real servers by key, `service/address:port`. */
function keyedRealServers(svc: Service, nodes: ReadonlyMap<string, { address: string }>): Map<string, RealServer> {
  const mine = new Map<string, RealServer>();
  for (const rs of svc.realServers) {
    const address = rs.address ?? (rs.node ? nodes.get(rs.node)?.address : undefined) ?? '?';
    mine.set(`${svc.name}/${address}:${rs.port ?? svc.port ?? 0}`, rs);
  }
  return mine;
}

/**
 * The real servers added, removed and changed, by key, and the mass-delete count over them. A
 * service equal in both specs whose nodes kept their addresses has the same real servers under the
 * same keys: it is keyed once, for the count, and not compared (a 10,000-node site's change of one
 * real server compares the one service that holds it, not 10,000 real servers).
 */
function realServerChanges(prev: Site | null, next: Site, services: NamedKind): { realServers: Change; massDelete: MassDeleteCount } {
  const nodesBefore = nodesOf(prev);
  const nodesAfter = nodesOf(next);
  const changedServices = new Set(services.change.changed);
  const before = new Map<string, ReadonlySet<string>>();
  const after = new Map<string, ReadonlySet<string>>();
  const out: Change = { added: [], removed: [], changed: [] };
  for (const [name, item] of services.after) {
    const svc = item as Service;
    const was = services.before.get(name) as Service | undefined;
    const same =
      was !== undefined &&
      !changedServices.has(name) &&
      svc.realServers.every(
        (rs) => rs.address !== undefined || rs.node === undefined || nodesBefore.get(rs.node)?.address === nodesAfter.get(rs.node)?.address,
      );
    const mine = keyedRealServers(svc, nodesAfter);
    if (same) {
      // The same set on both sides: the count takes it as kept whole.
      const keys = new Set(mine.keys());
      before.set(name, keys);
      after.set(name, keys);
      continue;
    }
    const theirs = was ? keyedRealServers(was, nodesBefore) : new Map<string, RealServer>();
    const c = changes(theirs, mine);
    out.added.push(...c.added);
    out.removed.push(...c.removed);
    out.changed.push(...c.changed);
    if (was) before.set(name, new Set(theirs.keys()));
    after.set(name, new Set(mine.keys()));
  }
  for (const [name, item] of services.before) {
    if (services.after.has(name)) continue;
    const theirs = keyedRealServers(item as Service, nodesBefore);
    out.removed.push(...theirs.keys());
    before.set(name, new Set(theirs.keys()));
  }
  for (const list of [out.added, out.removed, out.changed]) list.sort();
  return { realServers: out, massDelete: countMassDelete(before, after) };
}

const compiled = (site: Site | null) => (site ? compileSite(site) : new Map<string, NodeConfig>());

/** One kind of named spec object: its items by name in each spec, and what changed between them. */
interface NamedKind {
  before: ReadonlyMap<string, unknown>;
  after: ReadonlyMap<string, unknown>;
  change: Change;
}

function namedKind<T extends { name: string }>(prev: readonly T[] | undefined, next: readonly T[] | undefined): NamedKind {
  const before = named(prev);
  const after = named(next);
  return { before, after, change: changes(before, after) };
}

/** Field changes of the objects both sides have and that differ (as `changes` found them). */
function objectFields(prev: Site | null, next: Site, kinds: Record<'node' | 'vrrp' | 'service', NamedKind>): SiteDiff['objectFields'] {
  if (!prev) return [];
  const out: SiteDiff['objectFields'] = [];
  const { nodes: _pn, vrrp: _pv, services: _ps, ...prevRest } = prev.spec;
  const { nodes: _nn, vrrp: _nv, services: _ns, ...nextRest } = next.spec;
  const site = [...fieldChanges(prev.metadata, next.metadata).map((c) => ({ ...c, path: `metadata.${c.path}` })), ...fieldChanges(prevRest, nextRest)];
  if (site.length) out.push({ kind: 'site', name: next.metadata.name, changes: site });
  // In the previous spec's order, as before; only those that differ are walked.
  for (const [kind, { before, after, change }] of Object.entries(kinds)) {
    const differ = new Set(change.changed);
    for (const [name, b] of before) {
      if (!differ.has(name)) continue;
      const changes = fieldChanges(b, after.get(name));
      if (changes.length) out.push({ kind, name, changes });
    }
  }
  return out;
}

/** Above this many changed node configs, an apply answers their names without field changes unless asked for the full diff. */
export const CONFIG_FIELDS_LIMIT = 20;

/** What the caller already knows, so the diff need not compile or serialise again. */
export interface DiffKnown {
  /** Canonical-JSON hashes of both specs: equal means unchanged. */
  specHashes?: { before: string | null; after: string };
  /** Each node's config hash before (the live nodes) and after: nodeConfigs is read from them, and the previous spec is compiled only for field changes. */
  configHashes?: { before: ReadonlyMap<string, string>; after: ReadonlyMap<string, string> };
  /** The previous spec's compiled configs, if known: field changes compare them instead of compiling the previous spec again. */
  prevConfigs?: ReadonlyMap<string, NodeConfig>;
  /** Field changes of every changed config (`full`, the default), or only when at most CONFIG_FIELDS_LIMIT changed (`auto`). */
  configFields?: 'full' | 'auto';
}

/**
 * What applying `next` over `prev` (null: a new site) changes, at spec level and per compiled
 * node config. Pure; used by dry runs, `lvsfleet diff` and the mass-delete guard. With `known`
 * hashes, the node configs are compared by hash and the previous spec is compiled only when
 * their field changes are wanted (a 1,000-node apply that changes every node skips it).
 */
export function diffSites(prev: Site | null, next: Site, nextConfigs?: ReadonlyMap<string, NodeConfig>, known: DiffKnown = {}): SiteDiff {
  // Listed in this order: nodes, VRRP instances, services (objectFields keeps it).
  const kinds = {
    node: namedKind(prev?.spec.nodes, next.spec.nodes),
    vrrp: namedKind(prev?.spec.vrrp, next.spec.vrrp),
    service: namedKind(prev?.spec.services, next.spec.services),
  };
  const { realServers: rs, massDelete } = realServerChanges(prev, next, kinds.service);
  const prevConfigs = known.configHashes ? null : compiled(prev);
  let afterConfigs = nextConfigs ?? null;
  const configsNext = () => (afterConfigs ??= compiled(next));
  const nodeConfigs = known.configHashes ? changes(known.configHashes.before, known.configHashes.after) : changes(prevConfigs!, configsNext());
  const withFields = known.configFields !== 'auto' || nodeConfigs.changed.length <= CONFIG_FIELDS_LIMIT;
  let configFields: SiteDiff['configFields'] = [];
  if (withFields && nodeConfigs.changed.length) {
    // Only the configs: their texts are not needed for field changes.
    const p = prevConfigs ?? known.prevConfigs ?? compiled(prev);
    const n = configsNext();
    configFields = nodeConfigs.changed.map((node) => ({ node, changes: fieldChanges(p.get(node), n.get(node)) }));
  }
  const unchanged = prev !== null && (known.specHashes ? known.specHashes.before === known.specHashes.after : jsonEqual(prev, next));
  return {
    unchanged,
    nodes: kinds.node.change,
    services: kinds.service.change,
    realServers: rs,
    vrrp: kinds.vrrp.change,
    nodeConfigs,
    objectFields: objectFields(prev, next, kinds),
    configFields,
    ...(withFields ? {} : { configFieldsOmitted: nodeConfigs.changed.length }),
    massDelete,
  };
}

/** How a diff line is shown: `added`, `removed`, `changed` (a `+`/`-`/`~` line) or `field` (a changed field under one); plain text by default. */
export type DiffPaint = (kind: 'added' | 'removed' | 'changed' | 'field', text: string) => string;

/**
 * One line per change, `+`/`-`/`~` then kind and name, each changed object and node config
 * followed by its changed fields (`    scheduler: wlc → rr`); "no changes" when there are none.
 */
export function formatDiff(diff: SiteDiff, paint: DiffPaint = (_, t) => t): string {
  const lines: string[] = [];
  const fieldsOf = new Map<string, FieldChange[]>([
    ...(diff.objectFields ?? []).map((o) => [`${o.kind} ${o.name}`, o.changes] as const),
    ...(diff.configFields ?? []).map((c) => [`config ${c.node}`, c.changes] as const),
  ]);
  const site = diff.objectFields?.find((o) => o.kind === 'site');
  if (site) {
    lines.push(paint('changed', `~ site ${site.name}`));
    for (const f of site.changes) lines.push(paint('field', `    ${formatFieldChange(f)}`));
  }
  const kinds: [string, Change][] = [
    ['node', diff.nodes],
    ['vrrp', diff.vrrp],
    ['service', diff.services],
    ['realserver', diff.realServers],
    ['config', diff.nodeConfigs],
  ];
  for (const [kind, c] of kinds) {
    for (const n of c.added) lines.push(paint('added', `+ ${kind} ${n}`));
    for (const n of c.removed) lines.push(paint('removed', `- ${kind} ${n}`));
    for (const n of c.changed) {
      lines.push(paint('changed', `~ ${kind} ${n}`));
      for (const f of fieldsOf.get(`${kind} ${n}`) ?? []) lines.push(paint('field', `    ${formatFieldChange(f)}`));
    }
  }
  if (diff.configFieldsOmitted) lines.push(`  (field changes of ${plural(diff.configFieldsOmitted, 'node config')} not listed: ask with diff=full)`);
  return lines.length ? lines.join('\n') : 'no changes';
}
