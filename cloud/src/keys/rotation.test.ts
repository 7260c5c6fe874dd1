import { describe, expect, it } from 'vitest';
import { MAX_TRUSTED_KEYS, type KeyState } from '#shared/wire/key-trust.ts';
import { awaitsNodes, decideRotate, keyListing, planRotation, trustOf, type KeyRow, type NodeKeys } from './rotation.ts';

const row = (kid: string, state: KeyState, minute: number, generation = 1): KeyRow => ({
  kid,
  state,
  publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, kid },
  generation,
  previousKid: null,
  certificate: minute ? `cert-${kid}` : null,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, minute)),
});
const node = (nodeId: string, online: boolean, ...kids: string[]): NodeKeys => ({ nodeId, online, kids: new Set(kids) });

describe('planRotation', () => {
  it('makes an announced key active only when every online node pinned it; offline nodes are not waited for', () => {
    const keys = [row('k0', 'active', 0), row('k1', 'announced', 1, 2)];
    expect(planRotation(keys, [node('a', true, 'k0', 'k1'), node('b', true, 'k0')]).promote).toBeNull();
    expect(planRotation(keys, [node('a', true, 'k0', 'k1'), node('b', false, 'k0')]).promote).toBe('k1');
    expect(planRotation(keys, []).promote).toBe('k1');
  });

  it('retires a key only when every enrolled node, offline ones too, pinned a newer key', () => {
    const keys = [row('k0', 'retiring', 0), row('k1', 'active', 1, 3)];
    expect(planRotation(keys, [node('a', true, 'k0', 'k1'), node('b', false, 'k0')]).retire).toEqual([]);
    expect(planRotation(keys, [node('a', true, 'k0', 'k1'), node('b', false, 'k1')]).retire).toEqual(['k0']);
    expect(planRotation(keys, [node('a', true, 'k0', 'k1'), node('b', true)]).retire).toEqual([]); // an agent that reports no keys
  });

  it('after two rotations, a node that caught up through the chain lets both old keys retire', () => {
    const keys = [row('k0', 'retiring', 0), row('k1', 'retiring', 1), row('k2', 'active', 2, 5)];
    expect(planRotation(keys, [node('a', true, 'k1', 'k2'), node('late', false, 'k0')]).retire).toEqual([]);
    expect(planRotation(keys, [node('a', true, 'k1', 'k2'), node('late', true, 'k0', 'k1')]).retire).toEqual(['k0']);
    expect(planRotation(keys, [node('a', true, 'k1', 'k2'), node('late', true, 'k0', 'k1', 'k2')]).retire).toEqual(['k0', 'k1']);
  });
});

describe('awaitsNodes', () => {
  it('is true only while a key is announced or retiring: with none, no report of any node changes the plan', () => {
    expect(awaitsNodes([row('k0', 'active', 0)])).toBe(false);
    expect(awaitsNodes([row('k0', 'retired', 0), row('k1', 'active', 1, 3)])).toBe(false);
    expect(awaitsNodes([row('k0', 'active', 0), row('k1', 'announced', 1, 2)])).toBe(true);
    expect(awaitsNodes([row('k0', 'retiring', 0), row('k1', 'active', 1, 3)])).toBe(true);
    // What it saves reading is what planRotation would ignore.
    const settled = [row('k0', 'retired', 0), row('k1', 'active', 1, 3)];
    expect(planRotation(settled, [node('a', true, 'k0'), node('b', false)])).toEqual({ promote: null, retire: [] });
  });
});

describe('decideRotate', () => {
  it('announces under the active key; refuses while a key is announced, or when too many keys wait', () => {
    expect(decideRotate([row('k0', 'retired', 0), row('k1', 'active', 1)])).toEqual({ ok: true, previous: 'k1' });
    expect(decideRotate([row('k0', 'active', 0), row('k1', 'announced', 1)])).toMatchObject({ ok: false, reason: 'rotation_in_progress' });
    const waiting = Array.from({ length: MAX_TRUSTED_KEYS - 1 }, (_, i) => row(`r${i}`, 'retiring', i));
    expect(decideRotate([...waiting, row('a', 'active', 30)])).toMatchObject({ ok: false, reason: 'too_many_keys' });
    expect(decideRotate([row('k0', 'retired', 0)])).toMatchObject({ ok: false, reason: 'no_active_key' });
  });
});

describe('trustOf and keyListing', () => {
  const keys = [row('k0', 'retired', 0, 4), row('k1', 'retiring', 1, 4), row('k2', 'active', 2, 5)];
  it('the key set: non-retired keys and their certificates, oldest first, at the highest generation', () => {
    expect(trustOf(keys)).toEqual({
      generation: 5,
      keys: [
        { state: 'retiring', jwk: keys[1].publicJwk },
        { state: 'active', jwk: keys[2].publicJwk },
      ],
      chain: ['cert-k1', 'cert-k2'],
    });
  });
  it('lists which enrolled nodes have not pinned each live key', () => {
    const list = keyListing(keys, [node('b', true, 'k1', 'k2'), node('a', false, 'k1')]);
    expect(list.map((k) => [k.kid, k.state, k.acknowledged, k.missing])).toEqual([
      ['k0', 'retired', 0, []],
      ['k1', 'retiring', 2, []],
      ['k2', 'active', 1, ['a']],
    ]);
  });
});
