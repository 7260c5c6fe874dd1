/**
 * bfd_instance NAME { … } (keepalived.conf(5), BFD section) → one director's session, and the
 * merge of every director's sessions into spec.bfd: a pair of files naming each other with the
 * same session name is one `between` session; anything else is that director's `node` + `peer`.
 */
import type { BfdSession } from '../site/bfd.ts';
import type { Node } from '../site/site.ts';
import type { VrrpInstance } from '../site/vrrp.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { FileImport } from './model.ts';
import type { Stmt } from './parser.ts';
import { int, ipv4, needsBlock } from './values.ts';
import { specName } from './map-vrrp.ts';
import { error, walk, warn, type Cx } from './walk.ts';

/** Options keepalived has and a single-hop lvsfleet session does not. */
const UNSUPPORTED = ['idle_tx', 'passive', 'ttl', 'hoplimit', 'max_hops', 'multihop', 'weight', 'vrrp', 'checker', 'disabled'];

/** keepalived's interval range in ms (BFD_MINRX_MIN … BFD_MINRX_MAX_SENSIBLE). */
const interval = (st: Stmt, cx: Cx): string | undefined => {
  const n = int(st, cx, 1, 10_000);
  return n === undefined ? undefined : `${n}ms`;
};

export function mapBfd(st: Stmt, f: FileImport, cx: Cx): void {
  if (!needsBlock(st, cx)) return;
  if (st.args.length !== 1) return void error(cx, st.keyword, 'bfd_instance needs one name');
  const name = specName(st.args[0], cx, 'bfd_instance') ?? st.args[0].text;
  const s: Omit<FileImport['bfd'][number], 'at'> = { name };
  walk(st.block, st, s, cx, {
    what: `bfd_instance ${name}`,
    handlers: {
      neighbor_ip: (x, t, c) => void (t.neighbor = ipv4(x, c)),
      neighbour_ip: (x, t, c) => void (t.neighbor = ipv4(x, c)),
      source_ip: (x, t, c) => void (t.source = ipv4(x, c)),
      min_rx: (x, t, c) => void (t.minRx = interval(x, c)),
      min_tx: (x, t, c) => void (t.minTx = interval(x, c)),
      multiplier: (x, t, c) => void (t.multiplier = int(x, c, 1, 255)),
    },
    unsupported: UNSUPPORTED,
  });
  if (!s.neighbor) return void error(cx, st.keyword, `bfd_instance ${name} has no IPv4 neighbor_ip`);
  f.bfd.push({ at: st.keyword, ...s });
}

/** track_bfd { NAME [weight N [reverse]] } → trackBfd entries. */
export function mapTrackBfd(entries: Stmt[], cx: Cx): NonNullable<VrrpInstance['trackBfd']> {
  return entries.flatMap((e) => {
    const [w, n, rev] = e.args;
    if (!w) return [{ name: e.keyword.text }];
    if (w.text !== 'weight' || !n || (rev && rev.text !== 'reverse') || e.args.length > 3) {
      warn(cx, w, `options "${e.args.map((a) => a.text).join(' ')}" after ${e.keyword.text} cannot be expressed; ignored`);
      return [{ name: e.keyword.text }];
    }
    // reverse turns the meaning of the weight around (Up lowers the priority); no spec form says that.
    if (rev) {
      warn(cx, rev, `track_bfd ${e.keyword.text} weight … reverse cannot be expressed in a site spec; left out`);
      return [];
    }
    const weight = int(e, cx, -253, 253, n.text);
    return [{ name: e.keyword.text, ...(weight !== undefined ? { weight } : {}) }];
  });
}

/**
 * Every file's sessions → spec.bfd. A source_ip other than the node's address is refused (lvsfleet
 * binds a session to its node's address). A name used by several directors for different peers
 * becomes `NAME-NODE` per director, and the instances' trackBfd follows.
 */
export function mergeBfd(files: FileImport[], nodes: Node[], instances: VrrpInstance[], diags: Diagnostic[]): BfdSession[] {
  const byAddr = new Map(nodes.map((n) => [n.address, n.name]));
  const ends = files.flatMap((f, i) =>
    f.bfd.flatMap((b) => {
      if (b.source && b.source !== nodes[i].address) {
        diags.push({
          severity: 'warning',
          file: b.at.file,
          line: b.at.line,
          message: `bfd_instance ${b.name}: source_ip ${b.source} is not ${nodes[i].name}'s address; left out`,
        });
        return [];
      }
      return [{ ...b, node: nodes[i].name, peerNode: byAddr.get(b.neighbor!) ?? null }];
    }),
  );
  const timers = (b: (typeof ends)[number]) => ({
    ...(b.minRx ? { minRx: b.minRx } : {}),
    ...(b.minTx ? { minTx: b.minTx } : {}),
    ...(b.multiplier !== undefined ? { multiplier: b.multiplier } : {}),
  });
  const out: BfdSession[] = [];
  const used = new Set<(typeof ends)[number]>();
  for (const a of ends) {
    if (used.has(a)) continue;
    const b = ends.find((x) => !used.has(x) && x !== a && x.name === a.name && x.node === a.peerNode && x.peerNode === a.node);
    if (b) {
      used.add(a).add(b);
      out.push({ name: a.name, between: [a.node, b.node], ...timers(a) });
    }
  }
  const rest = ends.filter((e) => !used.has(e));
  for (const e of rest) {
    const shared = rest.filter((x) => x.name === e.name).length > 1;
    const name = shared ? `${e.name}-${e.node}` : e.name;
    out.push({ name, node: e.node, peer: e.neighbor!, ...timers(e) });
    if (shared)
      for (const inst of instances)
        if (inst.trackBfd?.some((t) => t.name === e.name) && inst.members.some((m) => m.node === e.node)) {
          const t = inst.trackBfd.find((x) => x.name === e.name)!;
          inst.trackBfd.push({ ...t, name });
        }
  }
  const renamed = new Set(rest.filter((e) => rest.filter((x) => x.name === e.name).length > 1).map((e) => e.name));
  for (const inst of instances) if (inst.trackBfd) inst.trackBfd = inst.trackBfd.filter((t) => !renamed.has(t.name));
  return out;
}
