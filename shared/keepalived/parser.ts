/**
 * keepalived.conf parser: lexed lines → a tree of statements. A statement is a keyword with
 * the values on its line; a `{` at the end of that line or alone on the next line opens its
 * block, `}` closes the innermost block (keepalived accepts both brace styles, and text after
 * a `}` on the same line starts a new statement). Which keywords are legal where is the
 * mapper's business; this file only checks the brace structure.
 */
import type { Diagnostic } from './diagnostics.ts';
import { lexFile, lexText, type FileSource, type Line, type Token } from './lexer.ts';

export interface Stmt {
  keyword: Token;
  args: Token[];
  /** Present when the statement has a `{ … }` block (possibly empty). */
  block?: Stmt[];
}

export interface ParseResult {
  statements: Stmt[];
  diagnostics: Diagnostic[];
}

interface Frame {
  owner: Stmt | null;
  body: Stmt[];
}

/** Builds the statement tree from lexed lines; brace errors go to `diags`. */
function parseLines(lines: Line[], diags: Diagnostic[]): Stmt[] {
  const root: Frame = { owner: null, body: [] };
  const stack: Frame[] = [root];
  const top = (): Frame => stack[stack.length - 1];
  // The last statement that ended at an end of line without a block: a `{` that starts the
  // next line belongs to it (brace on the next line).
  let pendingOwner: Stmt | null = null;

  for (const { tokens } of lines) {
    let current: Stmt | null = null;
    for (const tok of tokens) {
      if (tok.text === '{' && !tok.quoted) {
        const owner = current ?? pendingOwner;
        if (!owner) {
          diags.push({ severity: 'error', file: tok.file, line: tok.line, message: 'unexpected "{": no keyword before it' });
          // Still open a frame so the matching "}" does not close the wrong block.
          stack.push({ owner: { keyword: tok, args: [], block: [] }, body: [] });
        } else {
          if (owner.block) diags.push({ severity: 'error', file: tok.file, line: tok.line, message: `"${owner.keyword.text}" already has a block` });
          owner.block = [];
          stack.push({ owner, body: owner.block });
        }
        current = null;
        pendingOwner = null;
      } else if (tok.text === '}' && !tok.quoted) {
        if (stack.length === 1) diags.push({ severity: 'error', file: tok.file, line: tok.line, message: 'unexpected "}": no block is open here' });
        else stack.pop();
        current = null;
        pendingOwner = null;
      } else if (current) {
        current.args.push(tok);
      } else {
        current = { keyword: tok, args: [] };
        top().body.push(current);
        pendingOwner = null;
      }
    }
    if (current) pendingOwner = current;
  }
  for (let i = stack.length - 1; i > 0; i--) {
    const owner = stack[i].owner!;
    diags.push({
      severity: 'error',
      file: owner.keyword.file,
      line: owner.keyword.line,
      message: `"${owner.keyword.text}" block is never closed: a "}" is missing`,
    });
  }
  return root.body;
}

/** Parses a keepalived.conf (and what it includes) from `source`; `configId` is keepalived's `-i`. */
export function parseFile(file: string, source: FileSource, configId?: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lines = lexFile(file, source, diagnostics, 0, [], { defs: new Map(), ...(configId !== undefined ? { configId } : {}) });
  return { statements: parseLines(lines, diagnostics), diagnostics };
}

/** Parses text in hand; `include` is refused unless a source is given. */
export function parseText(text: string, file = 'keepalived.conf', source: FileSource | null = null): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lines = lexText(text, file, source, diagnostics);
  return { statements: parseLines(lines, diagnostics), diagnostics };
}
