import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import { Override } from '#shared/overrides/override.ts';
import type { Db } from '../db/client.ts';
import { overrides } from '../db/schema.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Active (not ended, `until` ahead of `now`) overrides of a site, oldest first. */
export async function activeOverrides(db: Db | Tx, siteId: string, now: Date): Promise<Override[]> {
  const rows = await db
    .select({ o: overrides.override })
    .from(overrides)
    .where(and(eq(overrides.siteId, siteId), isNull(overrides.endedAt), gt(overrides.until, now)))
    .orderBy(asc(overrides.createdAt), asc(overrides.id));
  return rows.map((r) => Override.parse(r.o));
}
