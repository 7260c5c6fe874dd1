import { eq } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { nodeStatus, orgs, outbox, rollouts } from '../db/schema.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { applySite } from '../sites/apply.ts';
import { validateSite } from '#shared/site/validate.ts';
import { startRolloutDriver } from './driver.ts';

/** The driver on its own: it ticks every active rollout with the database's reports until it ends. */
describe('rollout driver', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase();
    await db.db.insert(orgs).values({ id: 'default', name: 'default' });
  });
  afterAll(() => db?.close());

  const site = (weight: number) => {
    const s = parse(SEEDS_YAML);
    s.spec.rollout = { bake: '200ms' };
    s.spec.services[0].realServers[0].weight = weight;
    const v = validateSite(parse(stringify(s)));
    if (!v.ok) throw new Error(JSON.stringify(v.issues));
    return v.site;
  };
  const report = async (applied: Record<string, number>) => {
    for (const node of ['dr1', 'dr2', 'rs1', 'rs2']) {
      const nodeId = `bj-dc1.${node}`;
      const vrrp = node.startsWith('dr')
        ? [{ instance: 'VI_1', vrid: 50, state: node === 'dr1' ? 'MASTER' : 'BACKUP', priority: 100, effectivePriority: 100 }]
        : [];
      const status = { nodeId, online: true, appliedRevision: applied[node] ?? 1, vrrp } as NodeStatus;
      const now = new Date();
      await db.db
        .insert(nodeStatus)
        .values({ nodeId, online: true, appliedRevision: status.appliedRevision, status, updatedAt: now })
        .onConflictDoUpdate({ target: nodeStatus.nodeId, set: { status, appliedRevision: status.appliedRevision, updatedAt: now } });
    }
  };

  it('releases the MASTER after the bake and completes, kicking the publisher for each release', async () => {
    await applySite(db.db, { orgId: 'default', site: site(2), author: 'test' });
    await db.db.update(outbox).set({ status: 'published' });
    await report({});
    expect(await applySite(db.db, { orgId: 'default', site: site(5), author: 'test' })).toMatchObject({ revision: 2, staged: true });
    let kicks = 0;
    const driver = startRolloutDriver({ db: db.db, kickPublisher: () => void kicks++, pollMs: 50 });
    try {
      await report({ dr2: 2 });
      await waitFor(
        async () => (await db.db.select().from(outbox).where(eq(outbox.nodeId, 'bj-dc1.dr1'))).some((r) => r.revision === 2 && r.status === 'pending'),
        {
          timeoutMs: 10_000,
          what: "dr1's revision 2 released",
        },
      );
      expect(kicks).toBe(1);
      await report({ dr1: 2, dr2: 2 });
      await waitFor(async () => (await db.db.select().from(rollouts))[0].state === 'completed', { timeoutMs: 10_000, what: 'the rollout completed' });
    } finally {
      await driver.close();
    }
  });
});
