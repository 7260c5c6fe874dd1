import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { nodeCredentials, nodeStatus } from '../db/schema.ts';
import { insertSite, seedsSite } from '../../test/fixtures.test-support.ts';
import { readKeyRows } from './key-store.ts';
import { rotateKey } from './rotate.ts';
import { startRotator } from './rotator.ts';
import { loadSigner } from './signing.ts';

/** The rotation loop over a real database: node reports in `node_status` drive promotion and retirement. */
describe('startRotator', () => {
  let d: TestDatabase;
  beforeAll(async () => {
    d = await openTestDatabase();
  });
  afterAll(() => d.close());

  it('promotes once every online node pinned the announced key, retires the old one once every enrolled node has the new one', async () => {
    const db = d.db;
    await insertSite(db, seedsSite());
    const [a, b] = ['bj-dc1.dr1', 'bj-dc1.dr2'];
    for (const id of [a, b]) await db.insert(nodeCredentials).values({ nodeId: id, passwordHash: 'x' });
    const report = async (nodeId: string, online: boolean, kids: string[], updatedAt = new Date()) =>
      db
        .insert(nodeStatus)
        .values({ nodeId, online, status: { trust: { generation: 1, kids } }, updatedAt })
        .onConflictDoUpdate({ target: nodeStatus.nodeId, set: { online, status: { trust: { generation: 1, kids } }, updatedAt } });

    const signer = await loadSigner(db);
    const k0 = signer.kid;
    await report(a, true, [k0]);
    await report(b, true, [k0]);
    let changes = 0;
    const logs: string[] = [];
    const rotator = startRotator({ db, signer, onKeysChanged: () => changes++, staleAfterMs: 45_000, log: (l) => logs.push(l), pollMs: 3_600_000 });
    try {
      const states = async () => Object.fromEntries((await readKeyRows(db)).map((r) => [r.kid, r.state]));
      await rotator.step();
      expect(changes).toBe(0);

      const { kid: k1 } = await rotateKey(db, { orgId: 'org_test', actor: 'test' }, new Date());
      await rotator.step(); // the API's rotation is found: announce it
      expect(changes).toBe(1);
      expect(signer.kid).toBe(k0);
      expect(signer.generation).toBe(2);

      await report(a, true, [k0, k1]);
      await rotator.step();
      expect(await states()).toEqual({ [k0]: 'active', [k1]: 'announced' }); // b is online and has not pinned k1

      // b's report goes stale (it is not heard any more): it is not waited for
      await report(b, true, [k0], new Date(Date.now() - 60_000));
      await rotator.step();
      expect(await states()).toEqual({ [k0]: 'retiring', [k1]: 'active' });
      expect(signer.kid).toBe(k1);
      expect(changes).toBe(2);

      await rotator.step();
      expect(await states()).toMatchObject({ [k0]: 'retiring' }); // b still has only k0
      await report(b, true, [k0, k1]);
      await rotator.step();
      expect(await states()).toEqual({ [k0]: 'retired', [k1]: 'active' });
      expect((await signer.publicJwks()).map((k) => k.kid)).toEqual([k1]);
      expect(changes).toBe(3);
      expect(logs.join('\n')).toMatch(new RegExp(`${k1} announced→active[\\s\\S]*${k0} retiring→retired`));
    } finally {
      await rotator.close();
    }
  });
});
