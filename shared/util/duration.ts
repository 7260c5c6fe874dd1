import * as z from 'zod';

/** A duration with a unit: `20ms`, `1s`, `1.5s`, `2m`, `1h`. */
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration string to whole milliseconds, or returns null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** Same as parseDuration but throws; only for values a schema already accepted. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new TypeError(`not a duration: ${text}`);
  return ms;
}

/** Formats milliseconds the shortest exact way (`1s`, `100ms`, `1.5s`). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Longest duration a spec may hold: 31 days, keepalived's LVS_MAX_TIMEOUT (the longest persistence
 * timeout). It also keeps every resolved millisecond value a safe integer.
 */
export const MAX_DURATION_MS = 31 * 86_400_000;

export const Duration = z
  .string()
  .regex(DURATION_RE, { message: 'expected a duration with a unit, like 100ms, 1s or 2m' })
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_DURATION_MS, { message: 'at most 744h (31 days)' });
