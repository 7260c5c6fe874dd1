import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import type { SpecIssue } from './issues.ts';
import type { Site } from './site.ts';
import { validateSite } from './validate.ts';

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

/**
 * What parsing a spec text gave: the site, or why not. `syntax`: the text is not YAML (or not
 * JSON, when JSON was asked for), each issue has the line; `invalid`: it parsed but is not a valid
 * site, each issue has its path and, where one can be found, the line of the field it names.
 */
export type ParseOutcome = { ok: true; site: Site } | { ok: false; kind: 'syntax' | 'invalid'; issues: SpecIssue[] };

/** Text → validated site. `format: 'json'` also refuses YAML that is not JSON. */
export function parseSite(text: string, opts: { format?: 'yaml' | 'json' } = {}): ParseOutcome {
  const parsed = parseSpecText(text);
  if (opts.format === 'json') {
    // JSON is YAML: the YAML parser's issues carry lines; JSON that only YAML accepts gets JSON.parse's.
    const jsonError = jsonSyntaxError(text);
    if (jsonError) return { ok: false, kind: 'syntax', issues: parsed.ok ? [jsonError] : parsed.issues };
  }
  if (!parsed.ok) return { ok: false, kind: 'syntax', issues: parsed.issues };
  const result = validateSite(parsed.value);
  if (result.ok) return result;
  return { ok: false, kind: 'invalid', issues: result.issues.map((i) => ({ ...i, line: i.line ?? parsed.lineOf(i.path) })) };
}

/** JSON.parse's complaint, or null for valid JSON; the line when the message gives a position. */
function jsonSyntaxError(text: string): SpecIssue | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    if (!at) return { path: '', message };
    const line = text.slice(0, Number(at[1])).split('\n').length;
    return { path: '', line, message: `line ${line}: ${message}` };
  }
}
