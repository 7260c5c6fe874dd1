import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import type { SpecIssue } from './issues.ts';
import { validateSite, type ValidationResult } from './validate.ts';

/** Parses YAML or JSON text (JSON is YAML) to a plain value; syntax errors carry their line. */
export function parseSpecText(text: string): { ok: true; value: unknown; lineOf: (path: string) => number | undefined } | { ok: false; issues: SpecIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const line = lineCounter.linePos(e.pos[0]).line;
        return { path: '', line, message: `line ${line}: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const lineOf = (path: string): number | undefined => {
    const segs = splitPath(path);
    let node: unknown = doc.contents;
    let last: unknown = node;
    for (const seg of segs) {
      if (isMap(node)) node = node.get(seg, true);
      else if (isSeq(node) && typeof seg === 'number') node = node.get(seg, true);
      else break;
      if (node) last = node;
      else break;
    }
    const range = (last as YamlNode | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }), lineOf };
}

function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** Text → validated site; every issue has the line of the field it names where one can be found. */
export function parseSite(text: string): ValidationResult {
  const parsed = parseSpecText(text);
  if (!parsed.ok) return parsed;
  const result = validateSite(parsed.value);
  if (result.ok) return result;
  return { ok: false, issues: result.issues.map((i) => ({ ...i, line: i.line ?? parsed.lineOf(i.path) })) };
}
