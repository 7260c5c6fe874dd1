import { yaml } from './lazy-yaml.ts';
import { displayJson } from '#shared/util/display-json.ts';
import type { OutputFormat } from './args.ts';
import { forTerminal } from './terminal.ts';

/** Left-aligned columns with a header row, two spaces apart (kubectl style); a cell never breaks its row. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (c: string | number | null | undefined) => (c === null || c === undefined || c === '' ? '-' : forTerminal(String(c)).replace(/[\n\t]/g, ' '));
  const cells = [headers, ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** json (lossless, with every control character escaped) / yaml of `data`, or the table `render` makes. */
export function render(format: OutputFormat, data: unknown, renderTable: () => string): string {
  if (format === 'json') return displayJson(data, 2) + '\n';
  if (format === 'yaml') return yaml().stringify(data);
  return renderTable();
}
