import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredClaims } from '#shared/wire/desired.ts';
import { JWS_TYP } from '#shared/wire/desired.ts';
import { NODES, configFor, tempDir } from '../engine/engine.test-support.ts';
import { statePaths } from '../state/paths.ts';
import { canMountTmpfs, smallTmpfs, type SmallDisk } from '../state/tmpfs.test-support.ts';
import type { TrustReport } from '#shared/wire/key-trust.ts';
import { cacheFileBytes, Intake, type Rejection } from './intake.ts';
import { claimsOf, signDoc, testKey, trust, type TestKey } from './keys.test-support.ts';

type Key = { priv: CryptoKey; pub: JWK };
async function key(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { priv: privateKey as CryptoKey, pub: { ...(await exportJWK(publicKey)), kid } };
}
const sign = (k: Key, payload: unknown, kid = k.pub.kid) =>
  new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'EdDSA', kid, typ: JWS_TYP }).sign(k.priv);

const config = configFor({ nodes: NODES, services: [{ name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1' }] }] }, 'd1');
const claims = (revision: number, extra: Partial<DesiredClaims> = {}): DesiredClaims => ({
  nodeId: 't.d1',
  site: 't',
  revision,
  issuedAt: new Date().toISOString(),
  config,
  ...extra,
});

describe('verified intake', () => {
  let k: Key;
  let other: Key;
  let dir: string;
  let cleanup: () => Promise<void>;
  let rejected: Rejection[];
  const intake = () => new Intake({ nodeId: 't.d1', keys: [k.pub], paths: statePaths(dir), log: () => {}, onReject: (r) => rejected.push(r) });
  beforeAll(async () => {
    k = await key('k1');
    other = await key('k2');
  });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    rejected = [];
  });
  afterEach(() => cleanup());

  it('accepts a signed document for this node, saves it atomically with a backup, and boots from it', async () => {
    const i = intake();
    expect((await i.receive(await sign(k, claims(1))))?.revision).toBe(1);
    expect((await i.receive(await sign(k, claims(2))))?.revision).toBe(2);
    expect(JSON.parse(await readFile(statePaths(dir).desired, 'utf8')).revision).toBe(2);
    expect(JSON.parse(await readFile(`${statePaths(dir).desired}.bak`, 'utf8')).revision).toBe(1);
    expect((await intake().boot())?.revision).toBe(2);
    expect(rejected).toEqual([]);
  });

  it('writes the cache file as JSON.stringify writes it, the JWS copied in as it is', async () => {
    const jws = await sign(k, claims(1));
    const build = new Intake({ nodeId: 't.d1', keys: [k.pub], paths: statePaths(dir), log: () => {}, onReject: (r) => rejected.push(r), build: 'b1' });
    expect((await build.receive(jws))?.revision).toBe(1);
    const raw = await readFile(statePaths(dir).desired, 'utf8');
    expect(raw).toBe(JSON.stringify(JSON.parse(raw)));
    expect(JSON.parse(raw)).toMatchObject({ jws, revision: 1, schemaCheckedBy: 'b1' });
    for (const doc of [
      { jws, revision: 1, receivedAt: '2026-01-01T00:00:00.000Z' },
      { jws, revision: 2, overridesVersion: 3, receivedAt: '2026-01-01T00:00:00.000Z', schemaCheckedBy: 'b1' },
    ])
      expect(cacheFileBytes(doc).toString('utf8')).toBe(JSON.stringify(doc));
  });

  describe("the schema check at boot, keyed to the agent's build", () => {
    const built = (build: string | null, log: string[] = []) =>
      new Intake({ nodeId: 't.d1', keys: [k.pub], paths: statePaths(dir), log: (l) => log.push(l), onReject: (r) => rejected.push(r), build });
    const cache = async () => JSON.parse(await readFile(statePaths(dir).desired, 'utf8'));
    /** The cache as this build would have written it, around a signed document the schema refuses (an extra claim). */
    const outOfSchema = async (by: string) => {
      const jws = await sign(k, { ...claims(1), extra: true });
      await writeFile(statePaths(dir).desired, JSON.stringify({ jws, revision: 1, receivedAt: new Date().toISOString(), schemaCheckedBy: by }));
    };

    it('a document accepted by a build is recorded as schema-checked by it; the same build boots without checking again, the same claims', async () => {
      const c = claims(1);
      expect(await built('b1').receive(await sign(k, c))).toEqual(c);
      expect((await cache()).schemaCheckedBy).toBe('b1');
      const log: string[] = [];
      expect(await built('b1', log).boot()).toEqual(c);
      expect(log.join('\n')).toContain('its schema checked by this build at receipt');
    });

    it('another build, or one run from source, checks the schema again (and refuses what it does not take)', async () => {
      await outOfSchema('b1');
      for (const other of ['b2', null]) {
        const log: string[] = [];
        expect(await built(other, log).boot()).toBeNull();
        expect(log.join('\n')).toMatch(/cache .* rejected: schema: \(root\): Unrecognized key: "extra"/);
      }
    });

    it('the record spares the schema only: the signature and the node are still checked', async () => {
      // What the record is trusted for, shown with a document the schema refuses: this build takes it
      // from its own cache (it checked these bytes before, by the record) …
      await outOfSchema('b1');
      expect((await built('b1').boot())?.revision).toBe(1);
      // … but not once the bytes are not the signed ones, nor another node's.
      const { jws } = await cache();
      const [h, , sig] = jws.split('.');
      const evil = Buffer.from(JSON.stringify(claims(1, { site: 'evil' }))).toString('base64url');
      await writeFile(statePaths(dir).desired, JSON.stringify({ ...(await cache()), jws: `${h}.${evil}.${sig}` }));
      await rm(`${statePaths(dir).desired}.bak`, { force: true });
      const log: string[] = [];
      expect(await built('b1', log).boot()).toBeNull();
      expect(log.join('\n')).toMatch(/rejected: signature/);
      await writeFile(
        statePaths(dir).desired,
        JSON.stringify({ jws: await sign(k, claims(1, { nodeId: 't.d2' })), revision: 1, receivedAt: '', schemaCheckedBy: 'b1' }),
      );
      expect(await built('b1', log).boot()).toBeNull();
      expect(log.join('\n')).toMatch(/rejected: node: document is for t.d2/);
    });
  });

  it('rejects a forged signature (signed by a key with a pinned kid but the wrong private key)', async () => {
    expect(await intake().receive(await sign(other, claims(1), 'k1'))).toBeNull();
    expect(rejected[0]).toMatchObject({ why: 'signature' });
  });

  it('rejects an unknown key id', async () => {
    expect(await intake().receive(await sign(other, claims(1)))).toBeNull();
    expect(rejected[0]).toMatchObject({ why: 'key', detail: 'unknown key id "k2"' });
  });

  it("rejects another node's document", async () => {
    expect(await intake().receive(await sign(k, claims(1, { nodeId: 't.d2' })))).toBeNull();
    expect(rejected[0]).toMatchObject({ why: 'node', revision: 1 });
  });

  it('rejects a tampered payload', async () => {
    const jws = await sign(k, claims(1));
    const [h, , s] = jws.split('.');
    const evil = Buffer.from(JSON.stringify(claims(1, { site: 'evil' }))).toString('base64url');
    expect(await intake().receive(`${h}.${evil}.${s}`)).toBeNull();
    expect(rejected[0]).toMatchObject({ why: 'signature' });
  });

  it('rejects a replayed older or equal revision, also after a restart', async () => {
    const old = await sign(k, claims(1));
    await intake().receive(old);
    const five = await sign(k, claims(5));
    await intake().receive(five);
    expect(await intake().receive(old)).toBeNull();
    const restarted = intake();
    await restarted.boot();
    expect(await restarted.receive(old)).toBeNull();
    expect(await restarted.receive(await sign(k, claims(5)))).toBeNull(); // same revision, another document
    expect(rejected.map((r) => r.why)).toEqual(['replay', 'replay', 'replay']);
    expect(await restarted.receive(five)).toBeNull(); // the cached document re-delivered: nothing to do, no rejection
    expect(rejected).toHaveLength(3);
    expect((await restarted.receive(await sign(k, claims(6))))?.revision).toBe(6);
  });

  it("accepts a staged rollout's rollback (a newer revision carrying the older config) and never takes the rolled-back or the old document again", async () => {
    // The cloud rolls revision 2 back by writing revision 3 with revision 1's spec: the replay
    // rule stays "newer only", and the rollback is simply the newest document.
    const bad = configFor({ nodes: NODES, services: [{ name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1', weight: 7 }] }] }, 'd1');
    const one = await sign(k, claims(1));
    const two = await sign(k, claims(2, { config: bad }));
    const i = intake();
    await i.receive(one);
    expect((await i.receive(two))?.config).toEqual(bad);
    const rollback = await i.receive(await sign(k, claims(3)));
    expect(rollback).toMatchObject({ revision: 3, config });
    const restarted = intake();
    expect((await restarted.boot())?.revision).toBe(3);
    // A broker that re-delivers the bad revision, or the old document, changes nothing.
    expect(await restarted.receive(two)).toBeNull();
    expect(await restarted.receive(one)).toBeNull();
    expect(rejected.map((r) => [r.why, r.revision])).toEqual([
      ['replay', 2],
      ['replay', 1],
    ]);
  });

  it('orders documents by revision, then override generation: newer overrides for the same revision are taken, older ones are replays, also after a restart', async () => {
    const at = (revision: number, overridesVersion?: number) => claims(revision, overridesVersion === undefined ? {} : { overridesVersion });
    const i = intake();
    expect((await i.receive(await sign(k, at(5))))?.revision).toBe(5);
    expect((await i.receive(await sign(k, at(5, 2))))?.overridesVersion).toBe(2);
    expect(await i.receive(await sign(k, at(5, 1)))).toBeNull();
    expect(await i.receive(await sign(k, at(5)))).toBeNull();
    expect(await i.receive(await sign(k, at(4, 9)))).toBeNull(); // an older revision loses whatever its overrides
    expect(JSON.parse(await readFile(statePaths(dir).desired, 'utf8'))).toMatchObject({ revision: 5, overridesVersion: 2 });
    const restarted = intake();
    expect(await restarted.receive(await sign(k, at(5, 2)))).toBeNull(); // same version, another document
    expect((await restarted.receive(await sign(k, at(5, 3))))?.overridesVersion).toBe(3);
    expect((await restarted.receive(await sign(k, at(6, 3))))?.revision).toBe(6);
    expect(rejected.map((r) => [r.why, r.detail])).toEqual([
      ['replay', 'revision 5 (overrides 1) is older than accepted revision 5 (overrides 2)'],
      ['replay', 'revision 5 is older than accepted revision 5 (overrides 2)'],
      ['replay', 'revision 4 (overrides 9) is older than accepted revision 5 (overrides 2)'],
      ['replay', 'revision 5 (overrides 2) is already accepted with other claims'],
    ]);
  });

  it('rejects a huge revision and schema errors, applying nothing', async () => {
    const i = intake();
    expect(await i.receive(await sign(k, claims(Number.MAX_SAFE_INTEGER + 2)))).toBeNull();
    expect(await i.receive(await sign(k, { ...claims(1), config: { ...config, services: 'nope' } }))).toBeNull();
    expect(await i.receive('not a jws')).toBeNull();
    expect(rejected.map((r) => r.why)).toEqual(['schema', 'schema', 'schema']);
    expect(rejected[1].detail).toMatch(/^config\.services/);
    expect(await intake().boot()).toBeNull();
  });

  it('a corrupt cache falls back to the backup; a corrupt backup too leaves nothing to apply', async () => {
    const i = intake();
    await i.receive(await sign(k, claims(1)));
    await i.receive(await sign(k, claims(2)));
    await writeFile(statePaths(dir).desired, '{"jws": "trunc');
    const booted = intake();
    expect((await booted.boot())?.revision).toBe(1);
    // the broker's retained revision 2 was verified before: it is taken again, older ones are not
    expect((await booted.receive(await sign(k, claims(2))))?.revision).toBe(2);
    await writeFile(statePaths(dir).desired, 'garbage');
    await writeFile(`${statePaths(dir).desired}.bak`, 'garbage');
    expect(await intake().boot()).toBeNull();
  });

  it('a cached document whose signature no longer verifies is not applied', async () => {
    await intake().receive(await sign(k, claims(1)));
    const doc = JSON.parse(await readFile(statePaths(dir).desired, 'utf8'));
    doc.jws = doc.jws.slice(0, -4) + 'AAAA';
    await writeFile(statePaths(dir).desired, JSON.stringify(doc));
    expect(await intake().boot()).toBeNull();
  });

  it('records the accepted version in the cache file, saved with the document: no other file, and a boot writes nothing', async () => {
    await intake().receive(await sign(k, claims(3, { overridesVersion: 2 })));
    expect((await readdir(dir)).sort()).toEqual(['desired.json']);
    expect(JSON.parse(await readFile(statePaths(dir).desired, 'utf8'))).toMatchObject({ revision: 3, overridesVersion: 2 });
    const ino = (await stat(statePaths(dir).desired)).ino;
    expect((await intake().boot())?.revision).toBe(3);
    expect((await readdir(dir)).sort()).toEqual(['desired.json']);
    expect((await stat(statePaths(dir).desired)).ino).toBe(ino);
  });

  it('a cache whose signature no longer verifies is not applied but still records the bar: older is a replay, newer is taken', async () => {
    await intake().receive(await sign(k, claims(4)));
    const doc = JSON.parse(await readFile(statePaths(dir).desired, 'utf8'));
    doc.jws = doc.jws.slice(0, -4) + 'AAAA';
    await writeFile(statePaths(dir).desired, JSON.stringify(doc));
    const booted = intake();
    expect(await booted.boot()).toBeNull();
    expect(await booted.receive(await sign(k, claims(3)))).toBeNull();
    expect(await booted.receive(await sign(k, claims(4)))).toBeNull();
    expect(rejected.map((r) => [r.why, r.revision])).toEqual([
      ['replay', 3],
      ['replay', 4],
    ]);
    expect((await booted.receive(await sign(k, claims(5))))?.revision).toBe(5);
  });

  it('a cache file that records no version is logged by name and passed over for the backup', async () => {
    const logs: string[] = [];
    const withLog = () => new Intake({ nodeId: 't.d1', keys: [k.pub], paths: statePaths(dir), log: (l) => logs.push(l), onReject: (r) => rejected.push(r) });
    await withLog().receive(await sign(k, claims(1)));
    await withLog().receive(await sign(k, claims(2)));
    await writeFile(statePaths(dir).desired, '{"jws": "x", "revision": "2"}');
    // No boot: the bar as the files record it; the backup says 1, so the broker's 2 is taken again.
    const i = withLog();
    expect(await i.receive(await sign(k, claims(1)))).toBeNull();
    expect(logs).toContain(`state file ${statePaths(dir).desired} records no version; trying the next`);
    expect((await i.receive(await sign(k, claims(2))))?.revision).toBe(2);
  });

  it("an older agent's revision.json is the bar only where no cache file records one, and is removed at the first save", async () => {
    const f = statePaths(dir).revision;
    await writeFile(f, JSON.stringify({ revision: 7, overridesVersion: 1 }));
    const i = intake();
    expect(await i.boot()).toBeNull();
    expect(await i.receive(await sign(k, claims(7)))).toBeNull();
    expect(rejected.map((r) => [r.why, r.revision])).toEqual([['replay', 7]]);
    expect((await i.receive(await sign(k, claims(7, { overridesVersion: 2 }))))?.overridesVersion).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['desired.json']);
    // A cache that records a version wins over a revision file left beside it.
    await writeFile(f, JSON.stringify({ revision: 9 }));
    expect((await intake().receive(await sign(k, claims(8))))?.revision).toBe(8);
    // A corrupt one is logged by name and read as none.
    await rm(statePaths(dir).desired);
    await rm(`${statePaths(dir).desired}.bak`);
    await writeFile(f, '{"revision": "7"}');
    const logs: string[] = [];
    const bare = new Intake({ nodeId: 't.d1', keys: [k.pub], paths: statePaths(dir), log: (l) => logs.push(l), onReject: (r) => rejected.push(r) });
    expect((await bare.receive(await sign(k, claims(1))))?.revision).toBe(1);
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^state file ${f} is corrupt \\(revision: .+\\); starting without it$`)));
  });

  it('a save cut short by a crash (its temp file written, never renamed) leaves the previous document and its version as the bar', async () => {
    await intake().receive(await sign(k, claims(1)));
    const next = await sign(k, claims(2));
    // What a crash between the temp's fsync and the rename leaves behind.
    await writeFile(`${statePaths(dir).desired}.tmp-999-1`, JSON.stringify({ jws: next, revision: 2, receivedAt: new Date().toISOString() }));
    const booted = intake();
    expect((await booted.boot())?.revision).toBe(1);
    expect(await booted.receive(await sign(k, claims(1)))).toBeNull();
    expect((await booted.receive(next))?.revision).toBe(2);
  });

  describe.skipIf(!canMountTmpfs)('on a full disk', () => {
    let disk: SmallDisk;
    beforeEach(async () => {
      disk = await smallTmpfs();
    });
    afterEach(() => disk.unmount());

    it('a verified document that cannot be saved is not accepted: the error names the file, no temp file stays, the old cache is whole', async () => {
      const paths = statePaths(disk.dir);
      const i = new Intake({ nodeId: 't.d1', keys: [k.pub], paths, log: () => {}, onReject: (r) => rejected.push(r) });
      await i.receive(await sign(k, claims(1)));
      await disk.fill();
      await expect(i.receive(await sign(k, claims(2)))).rejects.toThrow(new RegExp(`^${paths.desired}: ENOSPC`));
      expect((await readdir(disk.dir)).sort()).toEqual(['desired.json', 'filler']);
      expect(JSON.parse(await readFile(paths.desired, 'utf8'))).toMatchObject({ revision: 1 });
      // The bar is still revision 1's: the document that could not be saved was not accepted.
      expect(await i.receive(await sign(k, claims(1)))).toBeNull();
      await disk.free();
      expect((await i.receive(await sign(k, claims(2))))?.revision).toBe(2);
    });
  });
});

describe('verified intake across a key rotation', () => {
  let k0: TestKey, k1: TestKey;
  let dir: string;
  let cleanup: () => Promise<void>;
  let rejected: Rejection[];
  let pinned: TrustReport[];
  const intake = () =>
    new Intake({ nodeId: 't.d1', keys: [k0.pub], paths: statePaths(dir), log: () => {}, onReject: (r) => rejected.push(r), onPinned: (p) => pinned.push(p) });
  beforeAll(async () => {
    [k0, k1] = await Promise.all([testKey(), testKey()]);
  });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    rejected = [];
    pinned = [];
  });
  afterEach(() => cleanup());

  it('the revision it runs, re-signed with the new key after the announcement, is no replay and applies nothing; the keys survive a restart', async () => {
    const i = intake();
    const first = trust(1, [[k0, 'active']]);
    expect((await i.receive(await signDoc(k0, claimsOf(3, { trust: first }))))?.revision).toBe(3);
    const announced = trust(2, [
      [k0, 'active'],
      [k1, 'announced'],
    ]);
    expect(await i.receive(await signDoc(k0, claimsOf(3, { trust: announced })))).toBeNull();
    const switched = trust(3, [
      [k0, 'retiring'],
      [k1, 'active'],
    ]);
    const resigned = await signDoc(k1, claimsOf(3, { trust: switched }));
    expect(await i.receive(resigned)).toBeNull();
    expect(rejected).toEqual([]);
    expect(pinned.map((p) => [p.generation, p.kids])).toEqual([
      [1, [k0.kid]],
      [2, [k0.kid, k1.kid]],
      [3, [k0.kid, k1.kid]],
    ]);
    expect(JSON.parse(await readFile(statePaths(dir).keys, 'utf8'))).toEqual({ generation: 3, keys: [k0.pub, k1.pub] });

    // After a restart: the cache is the re-signed document; the retained copy of it is a re-delivery.
    const restarted = intake();
    expect((await restarted.boot())?.revision).toBe(3);
    expect(await restarted.trustReport()).toEqual({ generation: 3, kids: [k0.kid, k1.kid] });
    expect(await restarted.receive(resigned)).toBeNull();
    // The stale announcement replayed is a replay; k0 retired, it signs nothing any more.
    expect(await restarted.receive(await signDoc(k0, claimsOf(3, { trust: announced })))).toBeNull();
    const retired = trust(4, [[k1, 'active']]);
    expect(await restarted.receive(await signDoc(k1, claimsOf(3, { trust: retired })))).toBeNull();
    expect(await restarted.receive(await signDoc(k0, claimsOf(4, { trust: first })))).toBeNull();
    expect(rejected.map((r) => r.why)).toEqual(['replay', 'key']);
    expect((await restarted.receive(await signDoc(k1, claimsOf(4, { trust: retired }))))?.revision).toBe(4);
  });

  it('a corrupt keys file falls back to its backup, then to the enrollment keys', async () => {
    const i = intake();
    await i.receive(await signDoc(k0, claimsOf(1, { trust: trust(1, [[k0, 'active']]) })));
    await i.receive(
      await signDoc(
        k0,
        claimsOf(2, {
          trust: trust(2, [
            [k0, 'active'],
            [k1, 'announced'],
          ]),
        }),
      ),
    );
    await writeFile(statePaths(dir).keys, 'garbage');
    expect(await intake().trustReport()).toEqual({ generation: 1, kids: [k0.kid] });
    await writeFile(`${statePaths(dir).keys}.bak`, 'garbage');
    expect(await intake().trustReport()).toEqual({ generation: 0, kids: [k0.kid] });
  });
});
