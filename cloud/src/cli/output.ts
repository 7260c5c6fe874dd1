import { stringify } from 'yaml';
import type { OutputFormat } from './args.ts';

/** Left-aligned columns with a header row, two spaces apart (kubectl style). */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** json / yaml of `data`, or the table `render` makes. */
export function render(format: OutputFormat, data: unknown, renderTable: () => string): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  if (format === 'yaml') return stringify(data);
  return renderTable();
}
