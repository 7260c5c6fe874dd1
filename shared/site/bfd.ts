import * as z from 'zod';
import { Duration } from '../util/duration.ts';
import { IpAddress } from '../util/ip.ts';
import { Name } from './names.ts';
import { byName } from './by-name.ts';

/**
 * keepalived bfd_instance (RFC 5880 asynchronous mode, RFC 5881 single hop): either between two
 * directors of the site (`between`), or from one director to an address on its link (`node` +
 * `peer`, e.g. a gateway). Timers are keepalived's: min_rx, min_tx, multiplier.
 */
export const BfdSession = z.strictObject({
  name: Name,
  /** Two directors: each runs its half of the session, to the other's address. */
  between: z.tuple([Name, Name]).optional(),
  /** One director, to `peer` (keepalived source_ip is the node's address, neighbor_ip is `peer`). */
  node: Name.optional(),
  peer: IpAddress.optional(),
  minRx: Duration.optional(),
  minTx: Duration.optional(),
  multiplier: z.number().int().min(1).max(255).optional(),
});
export type BfdSession = z.infer<typeof BfdSession>;

/** keepalived track_bfd: no weight → the session Down (or AdminDown) puts the instance in FAULT; otherwise priority ± weight. */
export const TrackBfdRef = z.strictObject({
  name: Name,
  weight: z.number().int().min(-253).max(253).optional(),
});

/** One director's half of a session: the compiler's unit, and what validation checks for clashes. */
export interface BfdEnd {
  session: string;
  node: string;
  /** The other end: a director of the site, or null for an address outside it (a gateway). */
  peerNode: string | null;
  peer: string;
  /** Index in spec.bfd, or null for a default pair session. */
  index: number | null;
}

/** The name of the default session of a pair of directors (spec.bfdDefault), the same from either side. */
const pairSessionName = (a: string, b: string): string => `pair-${[a, b].sort().join('-')}`;

/**
 * Every session end of the site: the sessions of spec.bfd, then a default session for each pair of
 * directors that are the only two members of a VRRP instance and have no session between them.
 * Ends naming unknown nodes are left out (validation reports them).
 */
export function bfdEnds(spec: {
  nodes: { name: string; role: string; address: string }[];
  bfd?: BfdSession[];
  bfdDefault?: boolean;
  vrrp?: { members: { node: string }[] }[];
}): BfdEnd[] {
  const nodes = byName(spec.nodes);
  const out: BfdEnd[] = [];
  (spec.bfd ?? []).forEach((s, index) => {
    if (s.between) {
      const [a, b] = s.between.map((n) => nodes.get(n));
      if (!a || !b || a.name === b.name) return;
      out.push({ session: s.name, node: a.name, peerNode: b.name, peer: b.address, index });
      out.push({ session: s.name, node: b.name, peerNode: a.name, peer: a.address, index });
    } else if (s.node && s.peer && nodes.has(s.node)) {
      const peerNode = spec.nodes.find((n) => n.address === s.peer && n.name !== s.node);
      out.push({ session: s.name, node: s.node, peerNode: peerNode?.name ?? null, peer: s.peer, index });
    }
  });
  if (spec.bfdDefault === false) return out;
  const linked = (a: string, b: string) => out.some((e) => e.node === a && e.peerNode === b);
  for (const inst of spec.vrrp ?? []) {
    if (inst.members.length !== 2) continue;
    const [a, b] = inst.members.map((m) => nodes.get(m.node));
    if (!a || !b || a.name === b.name || a.role !== 'director' || b.role !== 'director' || linked(a.name, b.name) || linked(b.name, a.name)) continue;
    const session = pairSessionName(a.name, b.name);
    out.push({ session, node: a.name, peerNode: b.name, peer: b.address, index: null });
    out.push({ session, node: b.name, peerNode: a.name, peer: a.address, index: null });
  }
  return out;
}
