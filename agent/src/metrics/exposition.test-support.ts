/** One metric family of a Prometheus text exposition. */
export interface Family {
  help: string;
  type: string;
  /** `name{a="1",b="2"}` (labels sorted) → value. Histograms keep their _bucket/_sum/_count names. */
  series: Map<string, number>;
}

/** Label names of a series key, sorted. */
export const labelNames = (key: string): string[] => [...key.matchAll(/(\w+)="/g)].map((m) => m[1]);

/** Reads Prometheus text format 0.0.4 into families by name (enough for tests; no timestamps). */
export function parseExposition(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  const family = (name: string) => {
    let f = out.get(name);
    if (!f) out.set(name, (f = { help: '', type: 'untyped', series: new Map() }));
    return f;
  };
  let current = '';
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      current = meta[2];
      if (meta[1] === 'HELP') family(current).help = meta[3];
      else family(current).type = meta[3];
      continue;
    }
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    const owner = m[1].startsWith(current) ? current : m[1];
    family(owner).series.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}
