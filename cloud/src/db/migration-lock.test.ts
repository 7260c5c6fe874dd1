import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { MIGRATIONS_DIR, openDatabase, type Database } from './client.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';

const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
const REPLICAS = 5;

// Needs a real PostgreSQL (DATABASE_URL): the race is between sessions of one server, which
// PGlite (one process's embedded database) cannot have.
describe.skipIf(!process.env.DATABASE_URL)('replicas starting together on one empty PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  const opened: Database[] = [];
  beforeAll(async () => {
    pg = await freshPostgres(process.env.DATABASE_URL!);
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    await pg?.drop();
  });

  it(`all ${REPLICAS} open and migrate; every migration is applied once`, async () => {
    const results = await Promise.allSettled(Array.from({ length: REPLICAS }, () => openDatabase({ url: pg.url })));
    for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const [first] = opened;
    const [applied] = await first.pg!<{ n: number }[]>`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
    expect(applied.n).toBe(journal.entries.length);
    // Every replica sees the whole schema.
    for (const d of opened) await d.db.execute(sql`SELECT 1 FROM api_tokens, outbox LIMIT 1`);
  });
});
