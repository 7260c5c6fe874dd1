import { compactVerify, importJWK } from 'jose';
import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { auditLog, nodeCredentials, nodeStatus } from '../../db/schema.ts';
import { loadSigner } from '../../keys/signing.ts';
import { useTestApp } from '../test-app.test-support.ts';
import { claimsFor, SEEDS_YAML, seedsSite } from '../../../test/fixtures.test-support.ts';

let keyKicks = 0;
const t = useTestApp({ deps: () => ({ kickKeys: () => void keyKicks++ }) });
beforeEach(async () => {
  keyKicks = 0;
  expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
});

type Listing = { generation: number; keys: { kid: string; state: string; previousKid: string | null; acknowledged: number; missing: string[] }[] };

describe('signing keys API', () => {
  it('needs an admin token to list or rotate', async () => {
    for (const as of ['viewer', 'operator'] as const) {
      expect((await t.req('/v1/keys', { as })).status).toBe(403);
      expect((await t.req('/v1/keys/rotate', { method: 'POST', as })).status).toBe(403);
    }
    expect((await t.req('/v1/keys/rotate', { method: 'POST', as: null })).status).toBe(401);
  });

  it('rotate announces a key certified by the active one, audits it, wakes the loop; a second rotate waits (409)', async () => {
    const active = await loadSigner(t.db.db);
    const res = await t.req('/v1/keys/rotate', { method: 'POST' });
    expect(res.status).toBe(200);
    const made = (await res.json()) as { kid: string; previous: string; generation: number; state: string };
    expect(made).toMatchObject({ previous: active.kid, generation: 2, state: 'announced' });
    expect(keyKicks).toBe(1);

    // The signer announces it in the key set under the active key, with its certificate.
    expect(await active.reload()).toBe(true);
    expect(active.kid).not.toBe(made.kid);
    const [jwk] = await active.publicJwks();
    const jws = await active.sign(claimsFor(seedsSite(), 'dr1', 1));
    const { payload } = await compactVerify(jws, await importJWK(jwk, 'EdDSA'));
    const trust = JSON.parse(new TextDecoder().decode(payload)).trust as {
      generation: number;
      keys: { state: string; jwk: { kid: string } }[];
      chain: string[];
    };
    expect(trust.generation).toBe(2);
    expect(trust.keys.map((k) => [k.jwk.kid, k.state])).toEqual([
      [active.kid, 'active'],
      [made.kid, 'announced'],
    ]);
    const cert = JSON.parse(new TextDecoder().decode((await compactVerify(trust.chain[0], await importJWK(jwk, 'EdDSA'))).payload));
    expect(cert).toMatchObject({ previous: active.kid, jwk: { kid: made.kid } });

    const again = await t.req('/v1/keys/rotate', { method: 'POST' });
    expect(again.status).toBe(409);
    expect((await again.json()).error).toMatchObject({ code: 'rotation_in_progress' });
    expect(await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'keys.rotate'))).toHaveLength(1);
  });

  it('lists keys oldest first with the enrolled nodes that have not pinned each one', async () => {
    const active = await loadSigner(t.db.db);
    const made = (await (await t.req('/v1/keys/rotate', { method: 'POST' })).json()) as { kid: string };
    for (const id of ['bj-dc1.dr1', 'bj-dc1.dr2']) await t.db.db.insert(nodeCredentials).values({ nodeId: id, passwordHash: 'x' });
    await t.db.db.insert(nodeStatus).values({ nodeId: 'bj-dc1.dr1', online: true, status: { trust: { generation: 2, kids: [active.kid, made.kid] } } });
    await t.db.db.insert(nodeStatus).values({ nodeId: 'bj-dc1.dr2', online: true, status: { trust: { generation: 1, kids: [active.kid] } } });
    const listing = (await (await t.req('/v1/keys')).json()) as Listing;
    expect(listing.generation).toBe(2);
    expect(listing.keys.map((k) => [k.kid, k.state, k.previousKid, k.acknowledged, k.missing])).toEqual([
      [active.kid, 'active', null, 2, []],
      [made.kid, 'announced', active.kid, 1, ['bj-dc1.dr2']],
    ]);
  });
});
