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
