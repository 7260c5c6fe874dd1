/**
 * `tsx module-order-cli.ts MODULES_DIR OUT_DIR name…`: copies the wanted modules and their
 * dependencies out of a kernel's modules tree into OUT_DIR and writes OUT_DIR/load-order
 * (`name path-relative-to-OUT_DIR` per line, dependencies first).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrder, normalizeModName, parseModinfo, type ModInfo } from './module-order.ts';

function indexTree(dir: string, into = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) indexTree(p, into);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) into.set(normalizeModName(e.name), p);
  }
  return into;
}

function main(argv: string[]): number {
  const [modulesDir, outDir, ...wanted] = argv;
  if (!modulesDir || !outDir || wanted.length === 0) {
    process.stderr.write('usage: module-order-cli MODULES_DIR OUT_DIR module…\n');
    return 2;
  }
  const paths = indexTree(modulesDir);
  const cache = new Map<string, ModInfo>();
  const scratch = mkdtempSync(join(tmpdir(), 'kl-modinfo-'));
  const infoOf = (name: string): ModInfo | undefined => {
    const path = paths.get(name);
    if (!path) return undefined;
    let info = cache.get(name);
    if (!info) {
      // binutils reads the section; the host has no modinfo and the package no modules.dep.
      // objcopy seeks in its output, so it writes a file rather than a pipe.
      const out = join(scratch, `${name}.modinfo`);
      execFileSync('objcopy', ['-O', 'binary', '--only-section=.modinfo', path, out]);
      info = parseModinfo(readFileSync(out));
      cache.set(name, info);
    }
    return info;
  };
  let order: string[];
  try {
    order = loadOrder(wanted, infoOf);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  mkdirSync(outDir, { recursive: true });
  const lines = order.map((name) => {
    copyFileSync(paths.get(name)!, join(outDir, `${name}.ko`));
    return `${name}.ko`;
  });
  writeFileSync(join(outDir, 'load-order'), lines.join('\n') + '\n');
  process.stdout.write(order.join(' ') + '\n');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
