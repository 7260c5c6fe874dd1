import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, isNull } from 'drizzle-orm';
import type { Site } from '#shared/site/site.ts';
import { createApp } from '../api/app.ts';
import { ensureBootstrapAdmin } from '../auth/tokens.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { nodes, sites } from '../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { loadSigner } from '../keys/signing.ts';
import { withhold } from '../rollout/store.ts';
import { seedsSite } from '../../test/fixtures.test-support.ts';
import { sha256Hex } from './config-hashes.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { compileSite } from '#shared/compiler/compile.ts';
import { SiteStates, type SiteState } from './site-states.ts';

const state = (siteId: string, revision: number, version: string, bytes = 10): SiteState => ({
  siteId,
  revision,
  version,
  spec: seedsSite(),
  specHash: 'h',
  configHashes: new Map(),
  configs: new Map(),
  bytes,
});

describe('SiteStates', () => {
  it('answers a state only for the same site id, revision and row version', () => {
    const s = new SiteStates();
    s.put('k', state('id1', 3, '700'));
    expect(s.get('k', { siteId: 'id1', revision: 3, version: '700' })?.revision).toBe(3);
    expect(s.get('other', { siteId: 'id1', revision: 3, version: '700' })).toBeUndefined();
    // Same revision, the row written since (a withheld stage, another replica's override change): a miss, and forgotten.
    expect(s.get('k', { siteId: 'id1', revision: 3, version: '701' })).toBeUndefined();
    expect(s.get('k', { siteId: 'id1', revision: 3, version: '700' })).toBeUndefined();
    s.put('k', state('id1', 3, '700'));
    expect(s.get('k', { siteId: 'id1', revision: 4, version: '700' })).toBeUndefined();
    s.put('k', state('id1', 3, '700'));
    expect(s.get('k', { siteId: 'id2', revision: 3, version: '700' })).toBeUndefined();
    expect(s.heldBytes).toBe(0);
  });

  it('holds at most maxBytes, the least recently applied site out first; a state over the bound is not kept', () => {
    const s = new SiteStates(100);
    s.put('a', state('a', 1, '1', 40));
    s.put('b', state('b', 1, '1', 40));
    s.put('a', state('a', 2, '2', 40)); // a applied again: b is now the oldest
    s.put('c', state('c', 1, '1', 40));
    expect(s.heldBytes).toBe(80);
    expect(s.get('b', { siteId: 'b', revision: 1, version: '1' })).toBeUndefined();
    expect(s.get('a', { siteId: 'a', revision: 2, version: '2' })).toBeDefined();
    s.put('c', state('c', 2, '2', 101));
    expect(s.get('c', { siteId: 'c', revision: 1, version: '1' })).toBeUndefined();
    expect(s.heldBytes).toBe(40);
  });
});

/** The seeds' site without staged rollout, `rs1`'s weight and a service's scheduler as given. */
function site(name: string, weight: number, scheduler: 'wlc' | 'rr' = 'wlc'): Site {
  const s = seedsSite(name);
  return {
    ...s,
    spec: {
      ...s.spec,
      rollout: { enabled: false },
      services: s.spec.services!.map((svc, i) => ({
        ...svc,
        scheduler: i === 0 ? scheduler : svc.scheduler,
        realServers: svc.realServers.map((rs) => (rs.node === 'rs1' ? { ...rs, weight } : rs)),
      })),
    },
  } as Site;
}

interface Answer {
  revision: number;
  unchanged: boolean;
  publishedNodes: string[];
  diff: { nodeConfigs: { changed: string[] }; configFields: { node: string; changes: { path: string }[] }[] };
  error?: { code: string };
}

/**
 * Two replicas, each an app with its own memory of the sites it applied, on one database: on
 * PostgreSQL (DATABASE_URL) each has its own connection pool, as two processes would; on PGlite
 * they share the one database.
 */
describe('two app instances on one database: an apply never answers from a stale memory', () => {
  let d: TestDatabase;
  let second: Database | null = null;
  let token: string;
  let put: (app: 'a' | 'b', body: Site, headers?: Record<string, string>) => Promise<Answer & { status: number }>;

  beforeAll(async () => {
    d = await openTestDatabase();
    second = d.url ? await openDatabase({ url: d.url }) : null;
    const signer = await loadSigner(d.db);
    token = (await ensureBootstrapAdmin(d.db)).secret!;
    const apps = { a: createApp({ db: d.db, signer }), b: createApp({ db: second?.db ?? d.db, signer }) };
    put = async (app, body, headers = {}) => {
      const res = await apps[app].request(`/v1/sites/${body.metadata.name}/spec`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: res.status, ...((await res.json()) as Answer) };
    };
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await d?.close();
  });

  /** The live nodes' config hashes as stored, against the spec's compiled configs. */
  async function expectStoredHashes(name: string, spec: Site): Promise<void> {
    const [row] = await d.db.select({ id: sites.id }).from(sites).where(eq(sites.name, name));
    const live = await d.db
      .select({ name: nodes.name, hash: nodes.configHash })
      .from(nodes)
      .where(and(eq(nodes.siteId, row.id), isNull(nodes.removedAt)));
    const want = [...compileSite(spec)].map(([n, c]) => [n, sha256Hex(canonicalJson(c))]);
    expect(live.map((n) => [n.name, n.hash]).sort()).toEqual(want.sort());
  }

  it("sees the other replica's revision: the spec it remembers as current is applied again as a change", async () => {
    const name = 'ssa';
    expect(await put('a', site(name, 2))).toMatchObject({ status: 200, revision: 1 });
    // From memory: only rs1's weight changed, so only the directors' configs.
    const r2 = await put('a', site(name, 3));
    expect(r2).toMatchObject({ status: 200, revision: 2, publishedNodes: ['dr1', 'dr2'] });
    expect(r2.diff.configFields.map((c) => c.node)).toEqual(['dr1', 'dr2']);
    // b moves the site on: a's memory is of revision 2.
    expect(await put('b', site(name, 5, 'rr'))).toMatchObject({ status: 200, revision: 3, publishedNodes: ['dr1', 'dr2'] });
    // a applies what it remembers as current: a stale memory would answer "unchanged" and write nothing.
    const r4 = await put('a', site(name, 3));
    expect(r4).toMatchObject({ status: 200, revision: 4, unchanged: false, publishedNodes: ['dr1', 'dr2'] });
    // The diff is against b's revision (scheduler rr → wlc), not a's remembered one.
    expect(r4.diff.configFields.find((c) => c.node === 'dr1')!.changes.map((c) => c.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/scheduler/), expect.stringMatching(/weight/)]),
    );
    // An If-Match of a's remembered revision after b's apply is refused.
    expect(await put('b', site(name, 7))).toMatchObject({ status: 200, revision: 5 });
    expect(await put('a', site(name, 8), { 'if-match': '4' })).toMatchObject({ status: 409, error: { code: 'stale_revision' } });
    // Identical to b's revision 5: unchanged, whatever a remembered.
    expect(await put('a', site(name, 7))).toMatchObject({ status: 200, revision: 5, unchanged: true, publishedNodes: [] });
    await expectStoredHashes(name, site(name, 7));
  });

  it('answers from memory what it answers from the database', async () => {
    // The same three applies through a (remembering) and, for another site, through a and b by
    // turns, so that every answer of the second is read from the database.
    const seq = [site('', 2), site('', 3), site('', 3, 'rr'), site('', 9)];
    const named = (s: Site, name: string) => ({ ...s, metadata: { ...s.metadata, name } }) as Site;
    for (const [i, s] of seq.entries()) {
      const hit = await put('a', named(s, 'ssm'));
      const miss = await put(i % 2 ? 'a' : 'b', named(s, 'ssd'));
      const shape = (x: Answer) => ({
        revision: x.revision,
        unchanged: x.unchanged,
        publishedNodes: x.publishedNodes,
        changed: x.diff.nodeConfigs.changed,
        fields: x.diff.configFields.map((c) => [c.node, c.changes.map((f) => f.path).sort()]),
      });
      expect(shape(hit)).toEqual(shape(miss));
    }
  });

  it('a withheld stage changes node hashes without a revision: the next apply publishes to those nodes again', async () => {
    const name = 'ssw';
    expect(await put('a', site(name, 2))).toMatchObject({ status: 200, revision: 1 });
    const [row] = await d.db.select({ id: sites.id }).from(sites).where(eq(sites.name, name));
    // rs1 never received revision 1 (nothing was published): withholding points it back at nothing.
    await (second?.db ?? d.db).transaction((tx) => withhold(tx, name, row.id, 1, ['rs1'], 'test'));
    // Only the directors' configs change; rs1 must go out too, as its stored hash is no longer revision 1's.
    const r = await put('a', site(name, 3));
    expect(r).toMatchObject({ status: 200, revision: 2 });
    expect(r.publishedNodes.sort()).toEqual(['dr1', 'dr2', 'rs1']);
    await expectStoredHashes(name, site(name, 3));
  });
});
