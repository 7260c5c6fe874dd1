import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { applyMigrations, MIGRATIONS_DIR, openDatabase, type Database } from './client.ts';
import { outbox } from './schema.ts';
import { rowsOf } from './rows.ts';
import { freshPostgres } from '../../test/pg.test-support.ts';

/** A copy of migrations/ whose journal stops before `tag`: the database as it was before that migration. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  if (cut < 0) throw new Error(`no migration ${tag}`);
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }));
  return dir;
}

describe.each([
  { engine: 'PGlite', skip: false },
  { engine: 'PostgreSQL', skip: !process.env.DATABASE_URL },
])('migration 0002_outbox_status on $engine', ({ engine, skip }) => {
  let d: Database;
  let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
  let before: string;
  beforeAll(async () => {
    if (skip) return;
    before = migrationsBefore('0002_outbox_status');
    pg = engine === 'PostgreSQL' ? await freshPostgres(process.env.DATABASE_URL!) : undefined;
    d = await openDatabase({ url: pg?.url, migrate: false });
    await applyMigrations(d, before);
  });
  afterAll(async () => {
    await d?.close();
    await pg?.drop();
    if (before) rmSync(before, { recursive: true, force: true });
  });

  it.skipIf(skip)('backfills the status from the old published_at + last_error encoding', async () => {
    await d.db.execute(sql`INSERT INTO orgs (id, name) VALUES ('o', 'o')`);
    await d.db.execute(sql`INSERT INTO sites (id, org_id, name, current_revision) VALUES ('s', 'o', 'site', 4)`);
    await d.db.execute(sql`INSERT INTO nodes (id, site_id, name, role, address) VALUES ('site.n', 's', 'n', 'director', '10.0.0.1')`);
    const at = new Date('2026-01-01T00:00:00Z').toISOString();
    await d.db.execute(sql`INSERT INTO outbox (node_id, site_id, revision, claims, published_at, last_error) VALUES
      ('site.n', 's', 1, '{}', ${at}, 'skipped: superseded by revision 2'),
      ('site.n', 's', 2, '{}', ${at}, NULL),
      ('site.n', 's', 3, '{}', NULL, 'broker unreachable'),
      ('site.n', 's', 4, '{}', NULL, NULL)`);
    await applyMigrations(d);
    const rows = await d.db.select().from(outbox).orderBy(asc(outbox.revision));
    expect(rows.map((r) => [r.revision, r.status, r.publishedAt?.toISOString() ?? null, r.lastError, r.skippedReason])).toEqual([
      [1, 'skipped', null, null, 'skipped: superseded by revision 2'],
      [2, 'published', at, null, null],
      [3, 'failed', null, 'broker unreachable', null],
      [4, 'pending', null, null, null],
    ]);
  });
});

// lz4 is the compression PostgreSQL gives the large columns (attcompression 'l'); PGlite has none
// and keeps the default ('').
describe.each([
  { engine: 'PGlite', skip: false, compression: '' },
  { engine: 'PostgreSQL', skip: !process.env.DATABASE_URL, compression: 'l' },
])('migrations 0012_nodes_status_fillfactor and 0013_lz4_toast on $engine', ({ engine, skip, compression }) => {
  let d: Database;
  let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
  beforeAll(async () => {
    if (skip) return;
    pg = engine === 'PostgreSQL' ? await freshPostgres(process.env.DATABASE_URL!) : undefined;
    d = await openDatabase({ url: pg?.url });
  });
  afterAll(async () => {
    await d?.close();
    await pg?.drop();
  });

  /** In one transaction: `rows` rows inserted, each then updated once; the updates counted, and those that stayed on their page (HOT). */
  async function updates(table: 'nodes' | 'node_status', rows: number): Promise<{ updated: number; hot: number }> {
    let counts: { updated: number; hot: number } | undefined;
    // Rolled back at the end (drizzle's rollback() ends the transaction by throwing), so each table starts empty.
    await d.db
      .transaction(async (tx) => {
        if (table === 'nodes') {
          await tx.execute(sql`INSERT INTO orgs (id, name) VALUES ('o', 'o')`);
          await tx.execute(sql`INSERT INTO sites (id, org_id, name) VALUES ('s', 'o', 'site')`);
          await tx.execute(sql`INSERT INTO nodes (id, site_id, name, role, address, config_hash)
            SELECT 'site.n' || i, 's', 'n' || i, 'realserver', '10.0.0.1', repeat('a', 64) FROM generate_series(1, ${rows}::integer) i`);
          await tx.execute(sql`UPDATE nodes SET config_hash = repeat('b', 64), desired_revision = 2`);
        } else {
          await tx.execute(
            sql`INSERT INTO node_status (node_id, online, status) SELECT 'site.n' || i, true, '{"x":1}' FROM generate_series(1, ${rows}::integer) i`,
          );
          await tx.execute(sql`UPDATE node_status SET online = false, applied_revision = 2, updated_at = now()`);
        }
        // This transaction's own counts, kept by the backend as it goes (no statistics collector involved).
        const answer = await tx.execute(
          sql`SELECT n_tup_upd::integer AS updated, n_tup_hot_upd::integer AS hot FROM pg_stat_xact_user_tables WHERE relname = ${table}`,
        );
        [counts] = rowsOf<{ updated: number; hot: number }>(answer);
        tx.rollback();
      })
      .catch((e: unknown) => {
        if (!counts) throw e;
      });
    return counts!;
  }

  it.skipIf(skip)('an update that changes no indexed column stays on its page: no index is written', async () => {
    for (const table of ['nodes', 'node_status'] as const) {
      // 300 rows fill several pages: at the default fillfactor (100) most rows' pages have no room
      // left for a second version, and those updates go to another page and write every index.
      // Before this migration: 0 of 300 in either table. The last few versions of
      // small rows may not fit, since nothing is pruned inside one transaction.
      const counts = await updates(table, 300);
      expect(counts.updated, table).toBe(300);
      expect(counts.hot, table).toBeGreaterThanOrEqual(270);
    }
  });

  it.skipIf(skip)('compresses the large columns with lz4 where the server has it, and migrates where it has not (PGlite)', async () => {
    const answer = await d.db.execute(sql`
      SELECT c.relname || '.' || a.attname AS col, a.attcompression::text AS method FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE (c.relname, a.attname) IN (('outbox', 'claims'), ('site_revisions', 'spec'), ('node_status', 'status')) ORDER BY 1`);
    expect(rowsOf<{ col: string; method: string }>(answer)).toEqual(
      ['node_status.status', 'outbox.claims', 'site_revisions.spec'].map((col) => ({ col, method: compression })),
    );
  });
});
