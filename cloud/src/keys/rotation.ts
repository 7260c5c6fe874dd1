import { MAX_TRUSTED_KEYS, type KeyState, type KeyTrust, type PublicKeyJwk } from '#shared/wire/key-trust.ts';

/**
 * Key rotation, decided without I/O (docs/architecture.md, "Key rotation").
 *
 * A rotation walks one key through announced → active → retiring → retired:
 * - `lvsfleet keys rotate` makes a key `announced`: the active key signs its certificate and the
 *   key set every document carries, so agents pin it before anything is signed with it;
 * - once every online node reports it pinned, it becomes `active` (signs from then on) and the
 *   key it replaces `retiring`. A node offline meanwhile is not waited for: the certificate chain
 *   brings it from the key it pinned to the active one when it returns;
 * - a retiring key is `retired` (dropped from the key set, so agents unpin it) once every enrolled
 *   node reports a newer key pinned: no node needs it, or its certificate, any more.
 */

/** One row of `signing_keys` as rotation sees it (no private key). */
export interface KeyRow {
  kid: string;
  state: KeyState;
  publicJwk: PublicKeyJwk;
  generation: number;
  previousKid: string | null;
  certificate: string | null;
  createdAt: Date;
}

/** An enrolled node: whether the cloud hears it now, and the key ids it last reported pinned. */
export interface NodeKeys {
  nodeId: string;
  online: boolean;
  kids: ReadonlySet<string>;
}

/** Oldest first: the order keys were made in, which is the order of the chain. */
export function byAge<K extends Pick<KeyRow, 'createdAt' | 'kid'>>(rows: readonly K[]): K[] {
  return [...rows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
}

/** The highest generation of any row: the generation of the key set agents are told. */
export function generationOf(rows: readonly Pick<KeyRow, 'generation'>[]): number {
  return rows.reduce((g, r) => Math.max(g, r.generation), 1);
}

/** The trust claim every desired document carries: non-retired keys and their certificates, oldest first. */
export function trustOf(rows: readonly KeyRow[]): KeyTrust {
  const live = byAge(rows).filter((r) => r.state !== 'retired');
  return {
    generation: generationOf(rows),
    keys: live.map((r) => ({ state: r.state as Exclude<KeyState, 'retired'>, jwk: r.publicJwk })),
    chain: live.flatMap((r) => (r.certificate ? [r.certificate] : [])),
  };
}

export type RotateDecision =
  { ok: true; previous: string } | { ok: false; reason: 'rotation_in_progress' | 'too_many_keys' | 'no_active_key'; message: string };

/** Whether `keys rotate` may announce a new key now, and which key vouches for it. */
export function decideRotate(rows: readonly KeyRow[]): RotateDecision {
  const announced = rows.find((r) => r.state === 'announced');
  if (announced)
    return {
      ok: false,
      reason: 'rotation_in_progress',
      message: `key ${announced.kid} is announced and not active yet: it becomes active when every online node has pinned it (see lvsfleet keys list)`,
    };
  const active = byAge(rows.filter((r) => r.state === 'active')).at(-1);
  if (!active) return { ok: false, reason: 'no_active_key', message: 'there is no active signing key to vouch for a new one' };
  const live = rows.filter((r) => r.state !== 'retired').length;
  if (live >= MAX_TRUSTED_KEYS)
    return {
      ok: false,
      reason: 'too_many_keys',
      message: `${live} keys still wait for nodes to acknowledge their successors (at most ${MAX_TRUSTED_KEYS}); bring those nodes back or remove them (see lvsfleet keys list)`,
    };
  return { ok: true, previous: active.kid };
}

export interface RotationStep {
  /** The announced key to make active (the active one becomes retiring), or null. */
  promote: string | null;
  /** Retiring keys every enrolled node has a successor of. */
  retire: string[];
}

/**
 * Whether a rotation step has anything to wait on nodes for: an announced key to promote or a
 * retiring key to retire. Otherwise planRotation decides nothing whatever the nodes reported, so
 * the loop need not read them (every enrolled node's report, every second, on every replica).
 */
export function awaitsNodes(rows: readonly KeyRow[]): boolean {
  return rows.some((r) => r.state === 'announced' || r.state === 'retiring');
}

/** What the rotation loop does now, given the keys and the enrolled nodes. */
export function planRotation(rows: readonly KeyRow[], nodes: readonly NodeKeys[]): RotationStep {
  const ordered = byAge(rows);
  const announced = ordered.find((r) => r.state === 'announced');
  const promote = announced && nodes.every((n) => !n.online || n.kids.has(announced.kid)) ? announced.kid : null;
  const retire = ordered
    .filter((r) => r.state === 'retiring')
    .filter((r) => {
      const newer = new Set(ordered.slice(ordered.indexOf(r) + 1).map((k) => k.kid));
      return nodes.every((n) => [...n.kids].some((kid) => newer.has(kid)));
    })
    .map((r) => r.kid);
  return { promote, retire };
}

/** `keys list`: each key with its state, and for every non-retired key the enrolled nodes that have not pinned it. */
export function keyListing(rows: readonly KeyRow[], nodes: readonly NodeKeys[]) {
  return byAge(rows).map((r) => ({
    kid: r.kid,
    state: r.state,
    createdAt: r.createdAt.toISOString(),
    previousKid: r.previousKid,
    acknowledged: nodes.filter((n) => n.kids.has(r.kid)).length,
    missing:
      r.state === 'retired'
        ? []
        : nodes
            .filter((n) => !n.kids.has(r.kid))
            .map((n) => n.nodeId)
            .sort(),
  }));
}
