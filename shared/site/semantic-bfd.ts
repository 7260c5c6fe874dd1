import { durationMs } from '../util/duration.ts';
import { bfdEnds } from './bfd.ts';
import { uniqueNames, type SpecIssue } from './issues.ts';
import type { Node, Site } from './site.ts';

/** keepalived's sensible range for min_rx and min_tx (BFD_MINRX_MIN … BFD_MINRX_MAX_SENSIBLE), in ms. */
const INTERVAL_MIN_MS = 1;
const INTERVAL_MAX_MS = 10_000;

/**
 * BFD rules: each session is `between` two directors or from one director (`node`) to a `peer`
 * address; timers in keepalived's range; one session per pair of addresses (RFC 5881 §3 demultiplexes
 * a single-hop session by its addresses); every trackBfd names a session that runs on a member.
 */
export function checkBfd(site: Site, nodes: ReadonlyMap<string, Node>, out: SpecIssue[]): void {
  const { spec } = site;
  uniqueNames(spec.bfd, 'spec.bfd', 'BFD session', out);
  (spec.bfd ?? []).forEach((s, i) => {
    const p = `spec.bfd[${i}]`;
    const director = (name: string, path: string) => {
      const n = nodes.get(name);
      if (!n) out.push({ path, message: `no node named "${name}" in spec.nodes` });
      else if (n.role !== 'director') out.push({ path, message: `node "${name}" is a ${n.role}; BFD sessions run on directors` });
    };
    if (s.between && (s.node !== undefined || s.peer !== undefined)) out.push({ path: p, message: 'give either between or node and peer, not both' });
    else if (s.between) {
      s.between.forEach((n, j) => director(n, `${p}.between[${j}]`));
      if (s.between[0] === s.between[1]) out.push({ path: `${p}.between[1]`, message: 'a session needs two different nodes' });
    } else if (s.node === undefined || s.peer === undefined) out.push({ path: p, message: 'give between: [nodeA, nodeB], or node and peer' });
    else {
      director(s.node, `${p}.node`);
      if (nodes.get(s.node)?.address === s.peer) out.push({ path: `${p}.peer`, message: `${s.peer} is the address of ${s.node} itself` });
    }
    for (const key of ['minRx', 'minTx'] as const) {
      const v = s[key];
      if (v === undefined) continue;
      const ms = durationMs(v);
      if (ms < INTERVAL_MIN_MS || ms > INTERVAL_MAX_MS) out.push({ path: `${p}.${key}`, message: `${key} must be from 1ms to 10s` });
    }
  });

  const ends = bfdEnds(spec);
  const seen = new Map<string, string>();
  for (const e of ends) {
    if (e.index === null) continue;
    const key = `${e.node}>${e.peer}`;
    const prev = seen.get(key);
    if (prev !== undefined && prev !== e.session)
      out.push({ path: `spec.bfd[${e.index}]`, message: `${e.node} already has BFD session "${prev}" to ${e.peer}; one session per pair of addresses` });
    else seen.set(key, e.session);
  }

  (spec.vrrp ?? []).forEach((inst, i) => {
    uniqueNames(
      (inst.trackBfd ?? []).map((t) => ({ name: t.name })),
      `spec.vrrp[${i}].trackBfd`,
      'tracked BFD session',
      out,
    );
    (inst.trackBfd ?? []).forEach((t, j) => {
      const runs = ends.filter((e) => e.session === t.name);
      const path = `spec.vrrp[${i}].trackBfd[${j}].name`;
      if (!runs.length) out.push({ path, message: `no BFD session named "${t.name}" in spec.bfd (or a default pair session)` });
      else if (!runs.some((e) => inst.members.some((m) => m.node === e.node)))
        out.push({ path, message: `BFD session "${t.name}" runs on none of this instance's members` });
    });
  });
}
