import { sql } from 'drizzle-orm';

/**
 * When queued work is due (the outbox's documents, the webhooks' deliveries) is the database's
 * clock on both sides: written at its now() (or its now() plus a wait) and compared with its now().
 * Every replica, every Worker and the database then agree whatever their own clocks say; a reader
 * whose clock ran behind the database's read new rows as not yet due for the skew (and a Date drops
 * the microseconds now() keeps, so one in the same millisecond did too).
 */
export const dbNow = sql`now()`;

/**
 * The database's now() plus `ms`, cut to whole milliseconds: read back as a Date it is exactly the
 * value stored, so a time copied from it to other rows orders them as the original.
 */
export const dbNowPlus = (ms: number) => sql`date_trunc('milliseconds', now() + ${Math.max(0, Math.round(ms))}::double precision * interval '1 millisecond')`;
