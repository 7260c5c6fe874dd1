import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DOCUMENT_BYTES } from '#shared/wire/desired.ts';
import { keysThroughChain } from './key-chain.ts';
import { certify, claimsOf, signDoc, testKey, trust, type TestKey } from './keys.test-support.ts';
import { OFF_LOOP_JWS_CHARS } from './compact-jws.ts';
import { judgeRevision, verifyDesired } from './verify.ts';

describe('judgeRevision: the replay rule with key rotation', () => {
  const accepted = claimsOf(5, { trust: trust(1, []) as never });
  const at = (generation: number) => ({ generation, keys: [], chain: [] }) as never;
  const expect5 = { nodeId: 't.d1', accepted: { revision: 5, overridesVersion: 0 }, acceptedClaims: claimsOf(5), pinnedGeneration: 2 };

  it('takes the first revision and newer ones', () => {
    expect(judgeRevision(claimsOf(1), { nodeId: 't.d1', accepted: null })).toEqual({ ok: true, rule: 'first' });
    expect(judgeRevision(claimsOf(6), expect5)).toEqual({ ok: true, rule: 'newer' });
  });

  it('refuses an older revision, whatever its keys', () => {
    expect(judgeRevision(claimsOf(4, { trust: at(9) }), expect5)).toMatchObject({ ok: false, rule: 'older' });
  });

  it('takes the accepted revision re-signed: same claims, a newer key set', () => {
    expect(judgeRevision(claimsOf(5, { trust: at(3) }), expect5)).toEqual({ ok: true, rule: 'resigned' });
    // the accepted claims carried an older key set: the key set is no part of the revision's content
    expect(judgeRevision(claimsOf(5, { trust: at(3) }), { ...expect5, acceptedClaims: accepted })).toEqual({ ok: true, rule: 'resigned' });
  });

  it('refuses the accepted revision with no newer key set: a replay of a stale or equal copy', () => {
    expect(judgeRevision(claimsOf(5, { trust: at(2) }), expect5)).toMatchObject({ ok: false, rule: 'same-keys' });
    expect(judgeRevision(claimsOf(5, { trust: at(1) }), expect5)).toMatchObject({ ok: false, rule: 'same-keys' });
    expect(judgeRevision(claimsOf(5), expect5)).toMatchObject({ ok: false, rule: 'same-keys' });
  });

  it('refuses the accepted revision with other claims, even under a newer key set', () => {
    const other = claimsOf(5, { issuedAt: '2026-02-02T00:00:00.000Z', trust: at(3) });
    expect(judgeRevision(other, expect5)).toMatchObject({ ok: false, rule: 'other-claims' });
    // nothing to compare with (the cache is gone): it cannot be told from another document
    expect(judgeRevision(claimsOf(5, { trust: at(3) }), { ...expect5, acceptedClaims: null })).toMatchObject({ ok: false, rule: 'other-claims' });
  });
});

describe('verifyDesired across rotations', () => {
  let k0: TestKey, k1: TestKey, k2: TestKey, stranger: TestKey;
  let c01: string, c12: string;
  beforeAll(async () => {
    [k0, k1, k2, stranger] = await Promise.all([testKey(), testKey(), testKey(), testKey()]);
    [c01, c12] = [await certify(k0, k1), await certify(k1, k2)];
  });
  const base = { nodeId: 't.d1', accepted: { revision: 5, overridesVersion: 0 }, acceptedClaims: claimsOf(5), pinnedGeneration: 1 };

  it('an announcement under the pinned key is taken as a re-signed copy and names the keys to pin', async () => {
    const announced = trust(
      2,
      [
        [k0, 'active'],
        [k1, 'announced'],
      ],
      [c01],
    );
    const r = await verifyDesired(await signDoc(k0, claimsOf(5, { trust: announced })), [k0.pub], base);
    expect(r).toMatchObject({ ok: true, rule: 'resigned', kid: k0.kid, pin: announced });
  });

  it('the same revision signed by the newly pinned key is taken, not a replay', async () => {
    const switched = trust(
      3,
      [
        [k0, 'retiring'],
        [k1, 'active'],
      ],
      [c01],
    );
    const r = await verifyDesired(await signDoc(k1, claimsOf(5, { trust: switched })), [k0.pub, k1.pub], { ...base, pinnedGeneration: 2 });
    expect(r).toMatchObject({ ok: true, rule: 'resigned', kid: k1.kid, pin: switched });
  });

  it('a node that missed two rotations follows the chain from the key it pinned', async () => {
    const now = trust(
      5,
      [
        [k0, 'retiring'],
        [k1, 'retiring'],
        [k2, 'active'],
      ],
      [c12, c01],
    ); // order does not matter
    const r = await verifyDesired(await signDoc(k2, claimsOf(5, { trust: now })), [k0.pub], base);
    expect(r).toMatchObject({ ok: true, rule: 'resigned', kid: k2.kid, pin: now });
    expect((await keysThroughChain([k0.pub], [c12, c01])).map((k) => k.kid)).toEqual([k0.kid, k1.kid, k2.kid]);
  });

  it('a chain with a missing link does not vouch for the newest key', async () => {
    const gap = trust(5, [[k2, 'active']], [c12]);
    const r = await verifyDesired(await signDoc(k2, claimsOf(6, { trust: gap })), [k0.pub], base);
    expect(r).toMatchObject({ ok: false, why: 'key', detail: `unknown key id "${k2.kid}"` });
  });

  it('a certificate signed by a key nobody pinned, or certifying a key under another kid, adds nothing', async () => {
    const forged = await certify(stranger, k2, { previous: k0.kid }, k0.kid); // says k0 vouches; another key signed it
    expect((await keysThroughChain([k0.pub], [forged])).map((k) => k.kid)).toEqual([k0.kid]);
    const unknownSigner = await certify(stranger, k2);
    expect((await keysThroughChain([k0.pub], [unknownSigner])).map((k) => k.kid)).toEqual([k0.kid]);
    const selfMade = await certify(stranger, stranger);
    expect((await keysThroughChain([k0.pub], [selfMade])).map((k) => k.kid)).toEqual([k0.kid]);
    const renamed = await certify(k0, k2, { jwk: { ...k2.pub, kid: k1.kid } }); // k2's key under k1's id
    expect((await keysThroughChain([k0.pub], [renamed])).map((k) => k.kid)).toEqual([k0.kid]);
    const wrongPrevious = await certify(k0, k1, { previous: stranger.kid });
    expect((await keysThroughChain([k0.pub], [wrongPrevious])).map((k) => k.kid)).toEqual([k0.kid]);
    const asDocument = await signDoc(k0, { previous: k0.kid, jwk: k1.pub, issuedAt: '2026-01-01T00:00:00.000Z' }); // a desired typ, not a key certificate
    expect((await keysThroughChain([k0.pub], [asDocument])).map((k) => k.kid)).toEqual([k0.kid]);
  });

  it('a document signed by a key its own key set does not name active is refused', async () => {
    const set = trust(3, [
      [k0, 'retiring'],
      [k1, 'active'],
    ]);
    const r = await verifyDesired(await signDoc(k0, claimsOf(6, { trust: set })), [k0.pub, k1.pub], base);
    expect(r).toMatchObject({ ok: false, why: 'key', revision: 6 });
  });

  it('a stale announcement replayed after the switch is a replay; a newer revision under an older key set pins nothing', async () => {
    const stale = trust(2, [
      [k0, 'active'],
      [k1, 'announced'],
    ]);
    const jws = await signDoc(k0, claimsOf(5, { trust: stale }));
    expect(await verifyDesired(jws, [k0.pub, k1.pub], { ...base, pinnedGeneration: 3 })).toMatchObject({ ok: false, why: 'replay', rule: 'same-keys' });
    const newer = await verifyDesired(await signDoc(k0, claimsOf(6, { trust: stale })), [k0.pub, k1.pub], { ...base, pinnedGeneration: 3 });
    expect(newer).toMatchObject({ ok: true, rule: 'newer', pin: null });
  });

  it('a retired key no longer pinned cannot sign, chain or not', async () => {
    const old = trust(2, [[k0, 'active']]);
    const r = await verifyDesired(await signDoc(k0, claimsOf(7, { trust: old })), [k1.pub], { ...base, pinnedGeneration: 4 });
    expect(r).toMatchObject({ ok: false, why: 'key' });
  });
});

describe("verifyDesired: a newer revision's services against the accepted one's", () => {
  const accepted = claimsOf(1);
  const after1 = { nodeId: 't.d1', accepted: { revision: 1, overridesVersion: 0 }, acceptedClaims: accepted };
  /** Revision 2 with its first service's first real server's weight set to `weight`. */
  const weighted = (weight: number) => {
    const c = structuredClone(claimsOf(2));
    c.config.services[0].realServers[0].weight = weight;
    return c;
  };

  it('takes a revision whose services are the accepted ones, or changed within the schema', async () => {
    const k = await testKey();
    const same = await verifyDesired(await signDoc(k, claimsOf(2)), [k.pub], after1);
    expect(same.ok && same.claims).toEqual(claimsOf(2));
    const changed = await verifyDesired(await signDoc(k, weighted(7)), [k.pub], after1);
    expect(changed.ok && changed.claims.config.services[0].realServers[0].weight).toBe(7);
  });

  it('refuses a changed service out of schema, naming it, as with no accepted document', async () => {
    const k = await testKey();
    const jws = await signDoc(k, weighted(-1));
    const r = await verifyDesired(jws, [k.pub], after1);
    expect(r).toMatchObject({ ok: false, why: 'schema', revision: 2 });
    expect(!r.ok && r.detail).toMatch(/^config\.services\.0\.realServers\.0\.weight: /);
    expect(await verifyDesired(jws, [k.pub], { nodeId: 't.d1', accepted: null })).toEqual(r);
  });
});

describe('verifyDesired: how large a document may be', () => {
  it("takes a director's document as large as a 10,000-node site makes it (over 4 MiB)", async () => {
    const k = await testKey();
    const c = claimsOf(1);
    const [rs] = c.config.services[0].realServers;
    // 10,000 real servers, each with its TCP check, as the compiler resolves them.
    const realServers = Array.from({ length: 10_000 }, (_, i) => {
      const address = `10.98.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      const healthCheck = {
        type: 'tcp' as const,
        intervalMs: 5000,
        timeoutMs: 2000,
        retries: 1,
        retryDelayMs: 1000,
        warmupMs: 5000,
        address,
        port: 80,
        bindTo: null,
        params: {},
      };
      return { ...rs, node: `rs${i + 1}`, address, healthCheck };
    });
    const big = { ...c, config: { ...c.config, services: [{ ...c.config.services[0], realServers }] } };
    const jws = await signDoc(k, big);
    expect(jws.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(jws.length).toBeLessThan(MAX_DOCUMENT_BYTES);
    const r = await verifyDesired(jws, [k.pub], { nodeId: 't.d1', accepted: null });
    expect(r.ok && r.claims.config.services[0].realServers.length).toBe(10_000);
  });

  it("lets the event loop's timers run between the steps of a large document, none within a small one's", async () => {
    const k = await testKey();
    const c = claimsOf(1);
    const [rs] = c.config.services[0].realServers;
    const realServers = Array.from({ length: 5_000 }, (_, i) => ({ ...rs, node: `rs${i + 1}`, address: `10.98.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
    const large = await signDoc(k, { ...c, config: { ...c.config, services: [{ ...c.config.services[0], realServers }] } });
    expect(large.length).toBeGreaterThan(OFF_LOOP_JWS_CHARS);
    const small = await signDoc(k, c);
    /** How many times a timer, set again each time it runs, ran while `jws` was verified. */
    const timerRunsDuring = async (jws: string) => {
      let runs = 0;
      let on = true;
      const tick = () => on && (runs++, setTimeout(tick, 0));
      setTimeout(tick, 0);
      const r = await verifyDesired(jws, [k.pub], { nodeId: 't.d1', accepted: null });
      on = false;
      expect(r.ok).toBe(true);
      return runs;
    };
    // Warm: the key's import and the schema's module are loaded once, by the first document.
    await timerRunsDuring(small);
    expect(await timerRunsDuring(small)).toBe(0);
    // The signature's job, then after the parse and after the schema check.
    expect(await timerRunsDuring(large)).toBeGreaterThanOrEqual(2);
  });

  it('refuses one over MAX_DOCUMENT_BYTES before reading any of it, naming its size', async () => {
    const k = await testKey();
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: k.kid })).toString('base64url');
    const jws = `${header}.${'A'.repeat(MAX_DOCUMENT_BYTES - header.length - 2)}.A`;
    expect(jws.length).toBe(MAX_DOCUMENT_BYTES + 1);
    expect(await verifyDesired(jws, [k.pub], { nodeId: 't.d1', accepted: null })).toEqual({
      ok: false,
      why: 'schema',
      detail: `a document of ${MAX_DOCUMENT_BYTES + 1} bytes, over the ${MAX_DOCUMENT_BYTES} an agent takes`,
    });
  });
});
