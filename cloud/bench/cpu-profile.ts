/**
 * Summarises a V8 CPU profile (the `.cpuprofile` of `--cpu-prof` or the inspector's
 * Profiler.stop) by self time per area of the apply and drain path. A sample is charged to the
 * innermost frame on its stack that names an area — so zod called by the signer counts as
 * "sign", JSON.parse called by the HTTP layer as "parse" — and to GC, idle or "other" when none does.
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber?: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

const HASH = 'hash';
export const IDLE = 'idle / program';

/** Areas by file path (first match wins), innermost frame first. Library paths are node_modules package names. */
const AREAS: [string, RegExp][] = [
  ['validate', /\/shared\/site\/|\/cloud\/src\/sites\/(validate|parse)/],
  ['compile', /\/shared\/compiler\//],
  ['diff', /\/cloud\/src\/sites\/(decide|diff)/],
  // Canonical JSON and SHA-256 hash configs for the diff, and serialise the signer's payload.
  [HASH, /\/shared\/util\/canonical-json|\/cloud\/src\/auth\/tokens/],
  [
    'SQL',
    /\/node_modules\/(@electric-sql|drizzle-orm|pg|pg-protocol|postgres)\/|\/cloud\/src\/db\/|\/cloud\/src\/sites\/apply|\/cloud\/src\/publisher\/outbox-store/,
  ],
  ['sign', /\/node_modules\/jose\/|\/cloud\/src\/keys\//],
  ['fan-out (broker)', /\/node_modules\/(aedes[^/]*|mqemitter[^/]*|qlobber[^/]*|aedes-persistence[^/]*)\/|\/cloud\/src\/mqtt\/broker/],
  ['publish (client)', /\/node_modules\/(mqtt|mqtt-packet)\/|\/cloud\/src\/publisher\/|\/cloud\/src\/mqtt\//],
  ['parse (HTTP, JSON, YAML)', /\/node_modules\/(hono|@hono\/[^/]+|yaml)\/|\/cloud\/src\/api\//],
];

function areaOfFrame(f: CallFrame): string | null {
  for (const [area, re] of AREAS) if (re.test(f.url)) return area;
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(idle)' || f.functionName === '(program)') return IDLE;
  return null;
}

/** Each profile node's area: its own frame's, else its caller's (hashing counts for its caller). */
function nodeAreas(p: CpuProfile): (id: number) => string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const areaOfNode = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = areaOfNode.get(id);
    if (known) return known;
    const n = byId.get(id)!;
    const own = areaOfFrame(n.callFrame);
    const up = parent.get(id);
    const above = up === undefined ? 'other' : resolve(up);
    const area =
      own === HASH ? (above === 'sign' ? 'sign' : 'diff') : (own ?? (above === 'other' && n.callFrame.url.startsWith('node:') ? 'node internals' : above));
    areaOfNode.set(id, area);
    return area;
  };
  return resolve;
}

/** Self time in milliseconds per area, largest first, plus the profile's wall span. */
export function selfTimeByArea(p: CpuProfile): { areas: [string, number][]; wallMs: number } {
  const resolve = nodeAreas(p);
  const totals = new Map<string, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const area = resolve(samples[i]);
    totals.set(area, (totals.get(area) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
  return { areas: [...totals].sort((a, b) => b[1] - a[1]), wallMs: (p.endTime - p.startTime) / 1000 };
}

/**
 * The `n` functions with the most self time (ms), each named `function file:line` with the area
 * most of its samples were charged to: what to look at inside an area. (A function called from
 * several areas, as a crypto job's `run` is by the signer and by token hashing, is labelled by
 * where its time went, not by its first sample's caller.)
 */
export function topFunctions(p: CpuProfile, n: number): { name: string; area: string; ms: number }[] {
  const resolve = nodeAreas(p);
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  /** Per function, its self time by area. */
  const totals = new Map<string, Map<string, number>>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i])!;
    const f = node.callFrame;
    const file = f.url.replace(/^.*\/(node_modules|cloud|shared|agent)\//, '$1/');
    const name = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${(f.lineNumber ?? 0) + 1}` : ''}`;
    const byArea = totals.get(name) ?? new Map<string, number>();
    const area = resolve(node.id);
    byArea.set(area, (byArea.get(area) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
    totals.set(name, byArea);
  }
  return [...totals]
    .map(([name, byArea]) => {
      const [area] = [...byArea].reduce((top, x) => (x[1] > top[1] ? x : top));
      return { name, area, ms: [...byArea.values()].reduce((t, v) => t + v, 0) };
    })
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}
