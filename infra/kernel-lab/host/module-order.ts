/**
 * Load order for kernel modules without modules.dep or modinfo: the Debian kernel package ships
 * neither, so the lab reads `depends=` (and `softdep=` pre:) out of each .ko's .modinfo section
 * and loads dependencies first, the way modprobe would.
 */

/** Fields of one module's .modinfo that decide its load order. */
export interface ModInfo {
  depends: string[];
  /** `softdep=pre: a b post: c` — only the pre: part must be loaded first. */
  softPre: string[];
}

/** Kernel module names treat `-` and `_` alike (modprobe does the same). */
export function normalizeModName(name: string): string {
  return name.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** Parse the NUL-separated `key=value` strings of a .modinfo section. */
export function parseModinfo(raw: Buffer | string): ModInfo {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const info: ModInfo = { depends: [], softPre: [] };
  for (const field of text.split('\0')) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1).trim();
    if (key === 'depends' && value) info.depends.push(...value.split(',').filter(Boolean).map(normalizeModName));
    if (key === 'softdep') {
      const pre = /pre:\s*([^:]*?)(\s+post:|$)/.exec(value);
      if (pre?.[1]) info.softPre.push(...pre[1].split(/\s+/).filter(Boolean).map(normalizeModName));
    }
  }
  return info;
}

/** Thrown when a wanted module or one of its dependencies is not in the tree. */
export class ModuleOrderError extends Error {
  constructor(
    readonly code: 'missing' | 'cycle',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Depth-first post-order over `depends` (+ soft pre-deps that exist), so every module comes
 * after what it needs. Soft dependencies that are not in the tree are skipped, as modprobe does.
 */
export function loadOrder(wanted: string[], infoOf: (name: string) => ModInfo | undefined): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string[], soft: boolean): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new ModuleOrderError('cycle', `module dependency cycle: ${[...from, name].join(' → ')}`);
    const info = infoOf(name);
    if (!info) {
      if (soft) return;
      throw new ModuleOrderError('missing', `module ${name} not found${from.length ? ` (needed by ${from.at(-1)})` : ''}`);
    }
    state.set(name, 'visiting');
    for (const dep of info.softPre) visit(dep, [...from, name], true);
    for (const dep of info.depends) visit(dep, [...from, name], false);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of wanted) visit(normalizeModName(name), [], false);
  return order;
}
