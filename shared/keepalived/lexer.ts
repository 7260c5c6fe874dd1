/**
 * keepalived.conf lexer. keepalived reads its configuration line by line (lib/parser.c):
 * `!` and `#` start a comment anywhere outside a quoted string, `{` and `}` are words of their
 * own even without spaces around them, and double quotes group a value with spaces
 * (`script "</dev/tcp/127.0.0.1/80"`). `include PATTERN` splices other files in place; the
 * pattern is a glob relative to the directory of the including file.
 */
import { cannotRead, type Diagnostic } from './diagnostics.ts';

export interface Token {
  text: string;
  file: string;
  line: number;
  /** The value was written in double quotes (so `{` inside it is not a brace). */
  quoted: boolean;
}

/** One source line after comments are removed; the words of the line in order. */
export interface Line {
  file: string;
  line: number;
  tokens: Token[];
}

/** What the lexer may read: the CLI passes the file system, tests pass a map. */
export interface FileSource {
  read(path: string): string;
  /** Paths matching an absolute glob pattern, sorted; [] when none match. */
  glob(pattern: string): string[];
}

const MAX_INCLUDE_DEPTH = 8;

/**
 * What lexing carries from line to line and into included files: keepalived's `$NAME=value`
 * definitions (used later as `$NAME` or `${NAME}`) and the config id that picks conditional lines.
 */
interface LexScope {
  defs: Map<string, string>;
  /** keepalived `-i CONFIG_ID` (`import --config-id`); keepalived's own default is the host name. */
  configId?: string;
}

/**
 * keepalived's conditional lines (lib/parser.c): `@ID rest` is read as `rest` when the config
 * id is ID and dropped otherwise; `@^ID rest` the other way round. A line with nothing after
 * the id is dropped. Without a config id the importer cannot know which lines keepalived reads
 * (its default id is the host name), so it asks for one. Returns the line to read, or null.
 */
function conditional(row: string, file: string, line: number, scope: LexScope, diags: Diagnostic[]): string | null {
  const m = /^[ \t]*@(\^?)([^ \t]*)(?:[ \t]+(.*))?$/.exec(row);
  if (!m) return row;
  if (scope.configId === undefined) {
    diags.push({
      severity: 'error',
      file,
      line,
      message: `conditional line @${m[1]}${m[2]}: keepalived picks these lines by its config id (-i, by default the host name); pass --config-id ID`,
    });
    return null;
  }
  if (m[3] === undefined) return null;
  return (m[2] === scope.configId) !== (m[1] === '^') ? m[3] : null;
}

/**
 * Applies keepalived's `$NAME=value` definitions: a definition line is consumed (null), other
 * lines get defined names replaced (undefined ones, like a shell's "$1" in a script, stay).
 */
function definitions(raw: string, file: string, line: number, scope: LexScope, diags: Diagnostic[]): string | null {
  const row = conditional(raw, file, line, scope, diags);
  if (row === null) return null;
  const defs = scope.defs;
  const def = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(row);
  if (def) {
    if (def[2].trimEnd().endsWith('\\')) diags.push({ severity: 'error', file, line, message: `multi-line definition $${def[1]} is not supported` });
    defs.set(def[1], def[2].trim());
    return null;
  }
  if (!row.includes('$') || defs.size === 0) return row;
  return row.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, a: string | undefined, b: string | undefined) => defs.get((a ?? b)!) ?? m,
  );
}

/** Splits one line into words; null when a quote is left open. */
export function splitLine(text: string, file: string, line: number): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u3000') {
      i++;
    } else if (c === '!' || c === '#') {
      break; // comment to end of line
    } else if (c === '{' || c === '}') {
      out.push({ text: c, file, line, quoted: false });
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return null;
      out.push({ text: text.slice(i + 1, end), file, line, quoted: true });
      i = end + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{}"!#\u3000]/.test(text[j])) j++;
      out.push({ text: text.slice(i, j), file, line, quoted: false });
      i = j;
    }
  }
  return out;
}

function dirname(path: string): string {
  const k = path.lastIndexOf('/');
  return k < 0 ? '.' : k === 0 ? '/' : path.slice(0, k);
}

/** Resolves an include pattern against the including file's directory. */
export function resolveInclude(pattern: string, fromFile: string): string {
  if (pattern.startsWith('/')) return pattern;
  const dir = dirname(fromFile);
  return dir === '.' ? pattern : `${dir}/${pattern}`;
}

/**
 * Lexes `file` and, in place of every `include` line, the files it names (keepalived
 * `include`: glob, relative to the including file). Diagnostics collect unreadable files,
 * open quotes and include loops; the lines read so far are still returned.
 */
export function lexFile(file: string, source: FileSource, diags: Diagnostic[], depth = 0, stack: string[] = [], scope: LexScope = { defs: new Map() }): Line[] {
  let text: string;
  try {
    text = source.read(file);
  } catch (err) {
    diags.push(cannotRead(file, err));
    return [];
  }
  return lexText(text, file, source, diags, depth, [...stack, file], scope);
}

/** Same as lexFile for text already in hand (`file` names it in diagnostics). */
export function lexText(
  text: string,
  file: string,
  source: FileSource | null,
  diags: Diagnostic[],
  depth = 0,
  stack: string[] = [file],
  scope: LexScope = { defs: new Map() },
): Line[] {
  const out: Line[] = [];
  const rows = text.replace(/^\uFEFF/, '').split('\n');
  rows.forEach((raw, idx) => {
    const line = idx + 1;
    const row = definitions(raw, file, line, scope, diags);
    if (row === null) return;
    const tokens = splitLine(row, file, line);
    if (tokens === null) {
      diags.push({ severity: 'error', file, line, message: 'unterminated quoted string' });
      return;
    }
    if (tokens.length === 0) return;
    if (tokens[0].text === 'include' && !tokens[0].quoted) {
      if (tokens.length !== 2) {
        diags.push({ severity: 'error', file, line, message: 'include takes one file name or glob pattern' });
        return;
      }
      if (!source) {
        diags.push({ severity: 'error', file, line, message: 'include is not available here' });
        return;
      }
      if (depth >= MAX_INCLUDE_DEPTH) {
        diags.push({ severity: 'error', file, line, message: `includes nested deeper than ${MAX_INCLUDE_DEPTH}` });
        return;
      }
      const pattern = resolveInclude(tokens[1].text, file);
      const files = /[*?[]/.test(pattern) ? source.glob(pattern) : [pattern];
      if (files.length === 0) diags.push({ severity: 'warning', file, line, message: `include ${tokens[1].text} matches no file` });
      for (const f of files) {
        if (stack.includes(f)) {
          diags.push({ severity: 'error', file, line, message: `include loop: ${f} includes itself` });
          continue;
        }
        out.push(...lexFile(f, source, diags, depth + 1, stack, scope));
      }
      return;
    }
    out.push({ file, line, tokens });
  });
  return out;
}
