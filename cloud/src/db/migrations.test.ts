import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { applyMigrations, MIGRATIONS_DIR, openDatabase, type Database } from './client.ts';
import { outbox } from './schema.ts';
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
