/** A message about an imported file, printed as `FILE:LINE: message` (docs/architecture.md, "Validation and errors"). */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  /** 1-based; 0 when the message is about the whole file. */
  line: number;
  message: string;
  /**
   * A warning about something keepalived runs (it corrects, ignores or tolerates it) that
   * lvsfleet imports the way keepalived reads it; `import --strict` makes it an error.
   */
  lenient?: true;
}

/** `FILE:LINE: message` for errors, `FILE:LINE: warning: message` for warnings. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return d.severity === 'warning' ? `${where}: warning: ${d.message}` : `${where}: ${d.message}`;
}

/**
 * `FILE: cannot read: REASON` for a file that cannot be read, the same for every import kind.
 * Node's `ENOENT: no such file or directory, open '/abs/path'` becomes `no such file or
 * directory`: the file is already named as the user wrote it.
 */
export function cannotRead(file: string, err: unknown): Diagnostic {
  const text = err instanceof Error ? err.message : String(err);
  const reason = /^E[A-Z]+: ([^,]+)/.exec(text)?.[1] ?? text;
  return { severity: 'error', file, line: 0, message: `cannot read: ${reason}` };
}

/** `--strict`: what keepalived tolerates (lenient warnings) is refused instead. */
export function strictly(diags: readonly Diagnostic[]): Diagnostic[] {
  return diags.map((d) => (d.lenient ? { ...d, severity: 'error' as const } : d));
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/**
 * The known word closest to `word` when it is close enough to be a likely typo: at most a
 * third of its length in edits (`HTTP[_GET` → `HTTP_GET`, `perssisstence_timeout` →
 * `persistence_timeout`), compared case-insensitively.
 */
export function suggest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  if (best === undefined || bestD === 0) return best;
  return bestD <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}
