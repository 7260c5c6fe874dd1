import { compileNode } from '#shared/compiler/compile.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { parseSite } from '#shared/site/parse.ts';

/**
 * `node`'s config compiled from a site spec's text (read from `file`); issues are
 * `file:line: path: message` lines. A module of its own, imported only when a spec must be
 * compiled: a restart with the spec unchanged takes the saved compile (./compiled-cache.ts) and
 * never loads the YAML parser, the site's schema or the compiler.
 */
export function compileSpecText(file: string, text: string, node: string): { ok: true; config: NodeConfig } | { ok: false; errors: string[] } {
  // A spec file may be JSON (YAML's subset): read as JSON when it is, with the same answers, much cheaper.
  const r = parseSite(text, { format: 'auto' });
  if (!r.ok) return { ok: false, errors: r.issues.map((i) => `${file}:${i.line ?? 0}: ${i.path ? `${i.path}: ` : ''}${i.message}`) };
  if (!r.site.spec.nodes.some((n) => n.name === node))
    return { ok: false, errors: [`--node: no node named "${node}" in ${file} (have ${r.site.spec.nodes.map((n) => n.name).join(', ')})`] };
  return { ok: true, config: compileNode(r.site, node) };
}
