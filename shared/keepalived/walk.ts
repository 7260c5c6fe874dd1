/**
 * Walks one block with a table of keyword handlers. Every statement is either mapped, or
 * reported: a keepalived keyword the spec cannot express → warning; a word close to a known
 * keyword (`HTTP[_GET`, `perssisstence_timeout`) → error with "did you mean"; a top-level
 * block inside another block → error naming the likely missing `}`; other unknown words →
 * warning. Nothing is dropped silently.
 */
import { suggest } from '../util/did-you-mean.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Token } from './lexer.ts';
import type { Stmt } from './parser.ts';

export interface Cx {
  diags: Diagnostic[];
  /** The blocks being walked, outermost first (walk maintains it). */
  scopes?: { what: string; open: Token | null; keys: string[] }[];
}

export function error(cx: Cx, tok: Token, message: string): void {
  cx.diags.push({ severity: 'error', file: tok.file, line: tok.line, message });
}

export function warn(cx: Cx, tok: Token, message: string): void {
  cx.diags.push({ severity: 'warning', file: tok.file, line: tok.line, message });
}

/**
 * keepalived runs this (correcting, ignoring or tolerating it) and the import follows it: a
 * warning that says what keepalived does, and an error under `import --strict`.
 */
export function lenient(cx: Cx, tok: Token, message: string): void {
  cx.diags.push({ severity: 'warning', file: tok.file, line: tok.line, message, lenient: true });
}

export type Handler<S> = (st: Stmt, state: S, cx: Cx) => void;

/** Blocks that only exist at the top level of keepalived.conf. */
const TOP_LEVEL_BLOCKS = [
  'global_defs',
  'vrrp_script',
  'vrrp_instance',
  'vrrp_sync_group',
  'virtual_server',
  'virtual_server_group',
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'vrrp_track_process',
  'track_file',
  'vrrp_track_file',
  'linkbeat_interfaces',
  'garp_group',
  'bfd_instance',
] as const;

export interface WalkOptions<S> {
  /** How the block is named in messages: `vrrp_instance VI_1`. */
  what: string;
  handlers: Record<string, Handler<S>>;
  /** keepalived keywords of this block that the spec cannot express (warned, ignored). */
  unsupported?: readonly string[];
  /** Called for a top-level block found inside this one (after the error is reported). */
  onMisplacedTopLevel?: (st: Stmt) => void;
}

/** Walks `body`; `owner` is the statement that opened the block (for messages). */
export function walk<S>(body: Stmt[] | undefined, owner: Stmt | null, state: S, cx: Cx, opts: WalkOptions<S>): void {
  const scopes = (cx.scopes ??= []);
  scopes.push({ what: opts.what, open: owner?.keyword ?? null, keys: [...Object.keys(opts.handlers), ...(opts.unsupported ?? [])] });
  try {
    walkBody(body, owner, state, cx, opts);
  } finally {
    scopes.pop();
  }
}

function walkBody<S>(body: Stmt[] | undefined, owner: Stmt | null, state: S, cx: Cx, opts: WalkOptions<S>): void {
  for (let i = 0; i < (body ?? []).length; i++) {
    const st = body![i];
    const kw = st.keyword.text;
    const handler = Object.hasOwn(opts.handlers, kw) ? opts.handlers[kw] : undefined;
    if (handler) {
      sameLineKeywords(st, cx, opts);
      handler(st, state, cx);
      continue;
    }
    if ((opts.unsupported ?? []).includes(kw)) {
      warn(cx, st.keyword, `${kw} in ${opts.what} cannot be expressed in a site spec; ignored`);
      continue;
    }
    if (owner && (TOP_LEVEL_BLOCKS as readonly string[]).includes(kw)) {
      const open = owner.keyword;
      error(cx, st.keyword, `${kw} is not allowed inside ${opts.what} (opened at line ${open.line}): a "}" is probably missing before line ${st.keyword.line}`);
      opts.onMisplacedTopLevel?.(st);
      continue;
    }
    // A keyword of an enclosing block: this block was not closed where it should have been.
    const outer = (cx.scopes ?? [])
      .slice(0, -1)
      .reverse()
      .find((sc) => sc.keys.includes(kw));
    if (owner && outer) {
      error(
        cx,
        st.keyword,
        `${kw} belongs to ${outer.what}, not inside ${opts.what} (opened at line ${owner.keyword.line}): a "}" is probably missing before line ${st.keyword.line}`,
      );
      continue;
    }
    unknownKeyword(st, state, cx, opts);
  }
}

/**
 * keepalived takes one keyword per line; a line like `state MASTER priority 100 interface eth1`
 * (a config flattened by a web page) silently loses everything after the first value.
 */
/** Keywords whose value is free text (a command line), where any word may follow. */
const FREE_TEXT = new Set([
  'script',
  'misc_path',
  'notify',
  'notify_master',
  'notify_backup',
  'notify_fault',
  'notify_stop',
  'notify_up',
  'notify_down',
  'quorum_up',
  'quorum_down',
  'user',
]);

function sameLineKeywords<S>(st: Stmt, cx: Cx, opts: WalkOptions<S>): void {
  if (FREE_TEXT.has(st.keyword.text)) return;
  const other = st.args.find((a) => !a.quoted && a !== st.args[0] && Object.hasOwn(opts.handlers, a.text) && a.text !== st.keyword.text);
  if (other) error(cx, other, `"${other.text}" follows "${st.keyword.text}" on the same line: keepalived reads one keyword per line`);
}

function unknownKeyword<S>(st: Stmt, state: S, cx: Cx, opts: WalkOptions<S>): void {
  const kw = st.keyword.text;
  const known = [...Object.keys(opts.handlers), ...(opts.unsupported ?? [])];
  // Prose glued to a keyword (`soory_server可以…`): suggest from the ASCII head.
  const head = /^[\x21-\x7e]+/.exec(kw)?.[0] ?? '';
  const prose = head !== kw;
  const candidate = suggest(prose ? head : kw, known);
  if (candidate && head.length >= 3 && opts.what === 'global_defs' && !st.block && !prose) {
    // keepalived itself only logs an unknown global_defs keyword, and nothing there reaches the
    // data plane here (it becomes an annotation at most): warn, so a working config still imports.
    warn(cx, st.keyword, `unknown keyword "${kw}" in global_defs; did you mean ${candidate}? ignored`);
    return;
  }
  if (candidate && head.length >= 3) {
    const tail = prose ? ' (the text after it looks like a comment without "#")' : '';
    error(cx, st.keyword, `unknown keyword "${kw}" in ${opts.what}${tail}; did you mean ${candidate}?`);
    // Read it as the keyword it most likely is, so mistakes inside it are reported too.
    const h = Object.hasOwn(opts.handlers, candidate) ? opts.handlers[candidate] : undefined;
    if (h && !prose) h({ ...st, keyword: { ...st.keyword, text: candidate } }, state, cx);
    return;
  }
  const outerHint =
    head.length >= 3
      ? suggest(
          head,
          (cx.scopes ?? []).slice(0, -1).flatMap((sc) => sc.keys),
        )
      : undefined;
  if (outerHint) {
    error(
      cx,
      st.keyword,
      `unknown keyword "${kw}" in ${opts.what}${prose ? ' (the text after it looks like a comment without "#")' : ''}; did you mean ${outerHint} (a "}" missing before it)?`,
    );
    return;
  }
  if (st.block) {
    error(cx, st.keyword, `unknown block "${kw}" in ${opts.what}`);
    return;
  }
  if (prose || head === '') warn(cx, st.keyword, `ignored text "${[kw, ...st.args.map((a) => a.text)].join(' ')}" in ${opts.what} (a comment without "#"?)`);
  else warn(cx, st.keyword, `unknown keyword "${kw}" in ${opts.what}; ignored`);
}
