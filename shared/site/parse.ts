import { CORE_SCHEMA, load } from 'js-yaml';
import {
  Composer,
  CST,
  Lexer,
  LineCounter,
  Parser,
  YAMLParseError,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Document,
  type Node as YamlNode,
  type YAMLMap,
} from 'yaml';
import type { SpecIssue } from './issues.ts';
import type { Site } from './site.ts';
import { validateSite, type ValidateOptions } from './validate.ts';

type SpecText = { ok: true; value: unknown; lineOf: (path: string) => number | undefined } | { ok: false; issues: SpecIssue[] };

/**
 * Parses YAML or JSON text (JSON is YAML) to a plain value; syntax errors carry their line. The
 * value comes from js-yaml when it can say what the yaml document would (`quickValue`), and the
 * document, which knows every node's line, is built only when a line is asked for.
 */
export function parseSpecText(text: string): SpecText {
  const quick = quickValue(text);
  if (quick === undefined) return parseSpecDocument(text);
  let lines: ((path: string) => number | undefined) | null = null;
  const lineOf = (path: string) => {
    if (!lines) {
      const parsed = parseSpecDocument(text);
      lines = parsed.ok ? parsed.lineOf : () => undefined;
    }
    return lines(path);
  };
  return { ok: true, value: quick, lineOf };
}

/**
 * The text's value by js-yaml (YAML 1.2, its core schema: the yaml library's), about five times
 * faster than the yaml document (a 1,000-service spec: 65 ms against 310 on a first parse), or
 * undefined where the two might answer differently: anything js-yaml refuses (a syntax error, a
 * key given twice, more than one document, an unknown tag, a complex key, nesting past
 * QUICK_MAX_DEPTH) and any alias (the yaml path bounds their expansion). Those, and every refusal,
 * are the yaml document's to answer, with their lines. So are the things the two libraries read
 * differently, found by comparing them (parse-quick.test.ts): an explicit tag (`!!float 1` is 1 to
 * js-yaml, "1" to yaml), an anchor (js-yaml takes `&|[` as one), a null key (`{ : x }`: "null"
 * against ""), a number too large for a double (`1e3150`: a string against Infinity), a lone
 * carriage return, a byte order mark after the first character, and `__proto__`.
 */
export function quickValue(text: string): unknown {
  if (text.includes('__proto__') || TAG_OR_ANCHOR.test(text) || LONE_CR.test(text) || text.indexOf('\ufeff', 1) !== -1) return undefined;
  let value: unknown;
  try {
    // An empty text is no document to js-yaml (undefined): the yaml path answers it.
    value = load(text, { schema: CORE_SCHEMA, maxAliases: 0, maxDepth: QUICK_MAX_DEPTH });
  } catch {
    return undefined;
  }
  return readsDifferently(value) ? undefined : value;
}

/** A `!` or `&` where a tag or an anchor could begin (a comment's "note !" too, which only costs the quick path). */
const TAG_OR_ANCHOR = /(?:^|[\s,[\]{}:?-])[!&]/;

/** A carriage return that does not end a line with its line feed (`\r\n` files read the same). */
const LONE_CR = /\r(?!\n)/;

/** YAML 1.2 core's float, as a plain scalar would be resolved. */
const CORE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * Whether the value holds what js-yaml may have read unlike yaml: a mapping key "null" (js-yaml's
 * name for a null key; a quoted "null" too) or a string, or a key, that is a core float beyond a
 * double's range (js-yaml's reading of such a plain scalar; a quoted one too).
 */
function readsDifferently(v: unknown): boolean {
  if (typeof v === 'string') return pastDouble(v);
  if (Array.isArray(v)) return v.some(readsDifferently);
  if (v === null || typeof v !== 'object') return false;
  for (const k in v) if (k === 'null' || pastDouble(k) || readsDifferently((v as Record<string, unknown>)[k])) return true;
  return false;
}

const pastDouble = (s: string) => CORE_FLOAT.test(s) && !Number.isFinite(Number(s));

/** The yaml document's reading of the text: its value, and every path's line. */
export function parseSpecDocument(text: string): SpecText {
  const lineCounter = new LineCounter();
  const { doc, deep } = parseDocumentGuarded(text, lineCounter);
  if (deep !== null) return { ok: false, issues: [{ path: '', line: deep, message: `line ${deep}: nested deeper than ${MAX_DEPTH} levels` }] };
  if (doc.errors.length) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const line = lineCounter.linePos(e.pos[0]).line;
        return { path: '', line, message: `line ${line}: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  // A mapping's keys indexed at its first lookup: `get` walks every pair, and a refusal of a
  // mapping of 20,000 unknown keys asks for each of them (two seconds, and growing as the square).
  const indexes = new WeakMap<YAMLMap, Map<unknown, unknown>>();
  const inMap = (map: YAMLMap, key: unknown): unknown => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      // As `get` finds a pair: the first whose key is the one asked, or a scalar of that value.
      for (const p of map.items) {
        const k = isScalar(p.key) ? p.key.value : p.key;
        if (!index.has(k)) index.set(k, p.value);
      }
      indexes.set(map, index);
    }
    return index.get(key);
  };
  const lineOf = (path: string): number | undefined => {
    const segs = splitPath(path);
    let node: unknown = doc.contents;
    let last: unknown = node;
    for (const seg of segs) {
      if (isMap(node)) node = inMap(node, seg);
      else if (isSeq(node) && typeof seg === 'number') node = node.get(seg, true);
      else break;
      if (node) last = node;
      else break;
    }
    const range = (last as YamlNode | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // An alias bomb ("billion laughs"): the yaml library refuses to expand it.
    const line = firstAliasLine(doc, lineCounter);
    return { ok: false, issues: [{ path: '', line, message: `line ${line}: aliases expand too far (${(err as Error).message})` }] };
  }
  return { ok: true, value, lineOf };
}

/** How many nodes one alias may expand to, counted the yaml library's way. */
const MAX_ALIAS_COUNT = 100;
/** A real site nests about ten collections deep; the yaml parser recurses per level and a few thousand exhaust the stack. */
const MAX_DEPTH = 64;
/**
 * Nesting js-yaml takes on the quick path: the yaml path's guard counts up to two levels per
 * collection (its indentation and a `- `), so a text within this is within MAX_DEPTH there too.
 */
const QUICK_MAX_DEPTH = MAX_DEPTH / 2 - 2;

/**
 * yaml's parseDocument (one document; more is an error), with the nesting checked on the lexer's
 * tokens as they pass to the parser: the text is lexed once, and the parser and composer, which
 * recurse per level, never see a token past MAX_DEPTH (`deep`: that token's line).
 */
function parseDocumentGuarded(text: string, lineCounter: LineCounter): { doc: Document.Parsed; deep: number | null } {
  const guard = new DepthGuard();
  const parser = new Parser(lineCounter.addNewLine);
  let deep: number | null = null;
  function* tokens() {
    lineCounter.addNewLine(0); // what Parser.parse does before its first token
    for (const tok of new Lexer().lex(text)) {
      deep = guard.next(tok);
      if (deep !== null) return; // the document is never finished, so nothing is composed
      yield* parser.next(tok);
    }
    yield* parser.end();
  }
  // Keys are checked unique below, in one pass: yaml's own check compares each key with every
  // earlier one of its mapping, and a mapping of 100,000 keys held the thread for two minutes.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  let doc: Document.Parsed | null = null;
  for (const d of composer.compose(tokens(), true, text.length)) {
    if (!doc) doc = d;
    else {
      doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  if (doc && deep === null) {
    const dupes = duplicateKeyErrors(doc);
    if (dupes.length) doc.errors = [...doc.errors, ...dupes].sort((a, b) => a.pos[0] - b.pos[0]);
  }
  return { doc: doc!, deep };
}

/**
 * yaml's `uniqueKeys` errors, found with a set per mapping: a later key whose scalar value equals
 * an earlier one's (yaml compares scalars by value, collections by identity, so those never), at
 * the later key.
 */
function duplicateKeyErrors(doc: Document.Parsed): YAMLParseError[] {
  const out: YAMLParseError[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key)) continue;
        // NaN never equals itself, as yaml's comparison has it; a set would call two of them one.
        if (Number.isNaN(key.value)) continue;
        if (!seen.has(key.value)) seen.add(key.value);
        else if (key.range) out.push(new YAMLParseError([key.range[0], key.range[0] + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
      }
    },
  });
  return out;
}

/**
 * Nesting depth on the lexer's tokens (one pass, no recursion). Flow collections count their
 * brackets; block collections count the indentation levels open on a line plus its `- ` and `? `
 * indicators (an upper bound: `key:` then `  - x` counts two). Scalars, block scalars and
 * comments count nothing.
 */
class DepthGuard {
  private line = 1;
  private flow = 0;
  private lineStart = true;
  private indent = 0;
  private indicators = 0;
  private scalarNext = false;
  private readonly open: number[] = [];

  /** Takes the next token; the line where the text nests deeper than MAX_DEPTH, else null. */
  next(tok: string): number | null {
    const newlines = newlinesIn(tok);
    if (this.scalarNext) {
      // The scalar's own text: a block scalar's lines are content, whatever their indentation.
      this.scalarNext = false;
      this.line += newlines;
      if (tok.endsWith('\n')) [this.lineStart, this.indent, this.indicators] = [true, 0, 0];
      else this.lineStart = false;
      return null;
    }
    const type = CST.tokenType(tok);
    if (type === 'newline') {
      [this.line, this.lineStart, this.indent, this.indicators] = [this.line + 1, true, 0, 0];
      return null;
    }
    if (type === 'space' && this.lineStart && newlines === 0) {
      this.indent = tok.length;
      return null;
    }
    if (type === 'comment' || type === 'space' || type === 'doc-mode' || type === null) {
      this.line += newlines;
      return null;
    }
    const open = this.open;
    if (this.lineStart && this.flow === 0) {
      while (open.length && open[open.length - 1] > this.indent) open.pop();
      if (!open.length || open[open.length - 1] < this.indent) open.push(this.indent);
    }
    this.lineStart = false;
    if (type === 'scalar') this.scalarNext = true;
    else if (type === 'flow-map-start' || type === 'flow-seq-start') this.flow++;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') this.flow = Math.max(0, this.flow - 1);
    else if (this.flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind')) this.indicators++;
    if (this.flow + open.length + this.indicators > MAX_DEPTH) return this.line;
    this.line += newlines;
    return null;
  }
}

/** The newlines in a token, counted without splitting it: most tokens have none, and a 1,000-service spec has ~80,000 tokens. */
function newlinesIn(tok: string): number {
  let n = 0;
  for (let i = tok.indexOf('\n'); i !== -1; i = tok.indexOf('\n', i + 1)) n++;
  return n;
}

/** The line of the document's first alias (where an expansion that was refused begins). */
function firstAliasLine(doc: Document.Parsed, lineCounter: LineCounter): number {
  let line = 1;
  visit(doc, {
    Alias(_key, node) {
      if (node.range) line = lineCounter.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
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

/**
 * Text → validated site. `format: 'json'` also refuses YAML that is not JSON. `format: 'auto'`
 * (a spec file, which may be either): a text that starts with `{` and that JSON.parse takes is read
 * as JSON, with the answers the YAML parser gives it (`parseJsonSite`) at a twentieth of the cost;
 * anything else, a YAML flow mapping that is not JSON included, goes through the YAML parser.
 */
export function parseSite(text: string, opts: { format?: 'yaml' | 'json' | 'auto' } & ValidateOptions = {}): ParseOutcome {
  if (opts.format === 'json') return parseJsonSite(text, opts);
  if (opts.format === 'auto' && /^\s*\{/.test(text)) {
    const value = jsonOrUndefined(text);
    if (value !== undefined) return jsonSite(text, value, opts);
  }
  const parsed = parseSpecText(text);
  if (!parsed.ok) return { ok: false, kind: 'syntax', issues: parsed.issues };
  return validated(parsed.value, () => parsed.lineOf, opts);
}

/**
 * A spec file read to be sent (`lvsfleet apply`, `diff`): `parseSite`'s outcome for the text as
 * YAML and, when valid, the text's value as JSON (written when asked: `validate` never sends it)
 * with the file's line of each path. The API reads a JSON body at a fraction of a YAML one's cost
 * (a 10,000-node site's 1.3 MB of YAML: about 0.15 s through js-yaml, 0.8 s when it goes to the yaml
 * document; its JSON 50 ms). The server's answers name paths, and their lines are the file's only
 * by `lineOf`.
 */
export type SourceOutcome =
  { ok: true; site: Site; json: () => string; lineOf: (path: string) => number | undefined } | { ok: false; kind: 'syntax' | 'invalid'; issues: SpecIssue[] };

export function parseSiteSource(text: string, opts: ValidateOptions = {}): SourceOutcome {
  const parsed = parseSpecText(text);
  if (!parsed.ok) return { ok: false, kind: 'syntax', issues: parsed.issues };
  const outcome = validated(parsed.value, () => parsed.lineOf, opts);
  if (!outcome.ok) return outcome;
  // A valid site's objects are all strict and its numbers finite (zod refuses NaN and ±Infinity),
  // so the value is JSON as it is: the server reads from this text the value the YAML gave here.
  return { ok: true, site: outcome.site, json: () => JSON.stringify(parsed.value), lineOf: parsed.lineOf };
}

/** JSON.parse's value, or undefined when the text is not JSON (JSON text never parses to undefined). */
function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function validated(value: unknown, lines: () => (path: string) => number | undefined, opts: ValidateOptions): ParseOutcome {
  const result = validateSite(value, opts);
  if (result.ok) return result;
  const lineOf = lines();
  return { ok: false, kind: 'invalid', issues: result.issues.map((i) => ({ ...i, line: i.line ?? lineOf(i.path) })) };
}

/**
 * JSON through JSON.parse, with the YAML parser's outcome: a 100 KB spec (a 1,000-node site) takes
 * ~7 ms this way and ~250 ms through the YAML document, which an apply only needs for lines. What
 * the YAML parser refuses and JSON.parse takes (a key given twice, nesting past MAX_DEPTH) is found
 * by one scan of the text; the YAML document is built only for the lines of a refusal.
 */
function parseJsonSite(text: string, opts: ValidateOptions): ParseOutcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON is YAML: the YAML parser's issues carry lines; JSON that only YAML accepts gets JSON.parse's.
    const parsed = parseSpecText(text);
    return { ok: false, kind: 'syntax', issues: parsed.ok ? [jsonSyntaxError(text)!] : parsed.issues };
  }
  return jsonSite(text, value, opts);
}

/** The outcome for `text`, which JSON.parse read as `value`: what the YAML parser would answer. */
function jsonSite(text: string, value: unknown, opts: ValidateOptions): ParseOutcome {
  const structural = jsonStructureIssue(text);
  if (structural) return { ok: false, kind: 'syntax', issues: [structural] };
  return validated(
    value,
    () => {
      const parsed = parseSpecText(text);
      return parsed.ok ? parsed.lineOf : () => undefined;
    },
    opts,
  );
}

/**
 * In text JSON.parse accepted: the first key given twice in one object (YAML's "Map keys must be
 * unique", at the second one) or the first bracket nested past MAX_DEPTH (counted as tooDeepAt
 * counts a JSON document: its brackets plus the top level), with its line.
 */
function jsonStructureIssue(text: string): SpecIssue | null {
  const issue = (line: number, message: string): SpecIssue => ({ path: '', line, message: `line ${line}: ${message}` });
  // Per open bracket: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) line++;
    else if (c === 0x7b || c === 0x5b) {
      open.push(c === 0x7b ? new Set() : null);
      if (open.length + 1 > MAX_DEPTH) return issue(line, `nested deeper than ${MAX_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) open.pop();
    else if (c === 0x22) {
      // A string (valid JSON: no raw newline inside, every quote in it escaped); a key when a colon follows.
      let end = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(end); d !== 0x22; d = text.charCodeAt(++end)) if (d === 0x5c) [escaped, end] = [true, end + 1];
      const keys = open.at(-1);
      if (keys) {
        let k = end + 1;
        while (k < text.length && ' \t\r\n'.includes(text[k])) k++;
        if (text.charCodeAt(k) === 0x3a) {
          const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
          if (keys.has(key)) return issue(line, 'Map keys must be unique');
          keys.add(key);
        }
      }
      i = end;
    }
  }
  return null;
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
