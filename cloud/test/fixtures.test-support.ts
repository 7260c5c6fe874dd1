import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSite } from '#shared/site/parse.ts';
import type { Site } from '#shared/site/site.ts';
import { compileSite } from '#shared/compiler/compile.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import type { Db } from '../src/db/client.ts';
import { nodes, orgs, outbox, sites } from '../src/db/schema.ts';

/** Test data shared by the cloud tests: the seeds' DR site (site bj-dc1) and rows that make nodes exist. */
export const SEEDS_PATH = fileURLToPath(new URL('../../examples/seeds-lvs-dr.yaml', import.meta.url));
export const SEEDS_YAML = readFileSync(SEEDS_PATH, 'utf8');

/** Not YAML: the flow mapping opened on line 3 never closes. */
export const BROKEN_YAML = 'apiVersion: lvsfleet/v1\nkind: Site\nmetadata: { name: bj-dc1\nspec: []\n';

/** The seeds' site; `name` renames it (unique topics on a broker other tests share). */
export function seedsSite(name?: string): Site {
  const r = parseSite(SEEDS_YAML);
  if (!r.ok) throw new Error(`seeds spec invalid: ${JSON.stringify(r.issues)}`);
  return name ? { ...r.site, metadata: { ...r.site.metadata, name } } : r.site;
}

/** A short random site name for one test run. */
export function runName(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Claims for one node of a site at a revision, as apply writes them into the outbox. */
export function claimsFor(site: Site, node: string, revision: number): DesiredClaims {
  const config = compileSite(site).get(node);
  if (!config) throw new Error(`no node ${node}`);
  return { nodeId: nodeIdOf(site.metadata.name, node), site: site.metadata.name, revision, issuedAt: new Date().toISOString(), config };
}

/**
 * Inserts org, site and nodes for `site` directly (what the API's apply does, minus validation),
 * and optionally outbox rows for `revision`. Answers the site id.
 */
export async function insertSite(db: Db, site: Site, opts: { revision?: number; outbox?: boolean } = {}): Promise<string> {
  const name = site.metadata.name;
  const siteId = `site_${name}`;
  await db.insert(orgs).values({ id: 'org_test', name: 'test' }).onConflictDoNothing();
  await db
    .insert(sites)
    .values({ id: siteId, orgId: 'org_test', name, currentRevision: opts.revision ?? 0 })
    .onConflictDoNothing();
  const compiled = compileSite(site);
  for (const n of site.spec.nodes) {
    await db
      .insert(nodes)
      .values({
        id: nodeIdOf(name, n.name),
        siteId,
        name: n.name,
        role: n.role,
        address: n.address,
        desiredRevision: opts.revision ?? 0,
        configHash: createHash('sha256')
          .update(canonicalJson(compiled.get(n.name)))
          .digest('hex'),
      })
      .onConflictDoNothing();
    if (opts.outbox && opts.revision) {
      await db.insert(outbox).values({ nodeId: nodeIdOf(name, n.name), siteId, revision: opts.revision, claims: claimsFor(site, n.name, opts.revision) });
    }
  }
  return siteId;
}
