/** Small writer for keepalived.conf text: indentation, blocks, values that need quotes. */
import { durationMs } from '../util/duration.ts';

export class ConfWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text: string): this {
    this.lines.push(`${'    '.repeat(this.depth)}${text}`);
    return this;
  }

  /** `head {` … `}` around what `body` writes. */
  block(head: string, body: () => void): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }

  /** `keyword value` when value is defined. */
  opt(keyword: string, value: string | number | undefined): this {
    if (value !== undefined) this.line(`${keyword} ${value}`);
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** A value keepalived reads as one word: quoted when it has spaces or comment characters. */
export function word(value: string): string {
  return /[\s!#{}"]/.test(value) || value === '' ? `"${value}"` : value;
}

/** A spec duration → keepalived seconds (`1.5s` → `1.5`, `50ms` → `0.05`). */
export function secs(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  return String(durationMs(d) / 1000);
}
