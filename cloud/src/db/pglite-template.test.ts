import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { applyMigrations, MIGRATIONS_DIR, openDatabase, type Database, type Db } from './client.ts';
import { copyTemplateDataDir, makeTemplate, migrationsHash, templateDataDir, templateFile } from './pglite-template.ts';
import * as schema from './schema.ts';
import { ensureBootstrapAdmin, findToken } from '../auth/tokens.ts';
import { loadSigner } from '../keys/signing.ts';

const root = mkdtempSync(join(tmpdir(), 'lvsfleet-template-'));
const templates = join(root, 'templates');
const open: Database[] = [];
afterAll(async () => {
  for (const d of open) await d.close();
  rmSync(root, { recursive: true, force: true });
});

/** The rows of a query (these databases are all PGlite, whose drizzle driver answers `{ rows }`). */
async function rows(db: Db, query: SQL): Promise<Record<string, unknown>[]> {
  return ((await db.execute(query)) as unknown as { rows: Record<string, unknown>[] }).rows;
}

/** Everything that makes up the schema: columns, constraints, indexes, and the migrations recorded. */
async function schemaOf(db: Db): Promise<unknown> {
  const q = (text: string) => rows(db, sql.raw(text));
  return {
    columns: await q(`SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema IN ('public', 'drizzle') ORDER BY 1, 2, 3`),
    constraints: await q(`SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE connamespace IN ('public'::regnamespace, 'drizzle'::regnamespace) ORDER BY 1, 2`),
    indexes: await q(`SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname IN ('public', 'drizzle') ORDER BY 1, 2, 3`),
    migrations: await q(`SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id`),
  };
}

/** The cluster's identifier, chosen at random by initdb. */
async function systemId(db: Db): Promise<string> {
  const [row] = await rows(db, sql`SELECT system_identifier::text AS id FROM pg_control_system()`);
  return String(row?.id);
}

/** What a start does with a database: signing key, bootstrap admin token; then the same again as a restart would. */
async function startLike(db: Db): Promise<{ kid: string; secret: string | null; again: { kid: string; created: boolean } }> {
  const signer = await loadSigner(db);
  const boot = await ensureBootstrapAdmin(db);
  const signer2 = await loadSigner(db);
  const boot2 = await ensureBootstrapAdmin(db);
  return { kid: signer.kid, secret: boot.secret, again: { kid: signer2.kid, created: boot2.created } };
}

/**
 * The data directory of the previous layout, made exactly as the code before the template did:
 * `new PGlite(dir)` with PGlite's own defaults (initdb in place, shared_buffers 128MB), the
 * migrations, then a start's signing key and admin token.
 */
async function oldLayoutDir(dir: string): Promise<{ kid: string; secret: string }> {
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  await client.waitReady;
  const database: Database = { db: drizzle(client, { schema }) as unknown as Db, kind: 'pglite', close: () => client.close() };
  try {
    await applyMigrations(database);
    const { kid, secret } = await startLike(database.db);
    return { kid, secret: secret! };
  } finally {
    await database.close();
  }
}

describe('PGlite template (pre-initialised data directory)', () => {
  const oldDir = join(root, 'old', 'pgdata');
  let old: { kid: string; secret: string };
  let oldSchema: unknown;
  beforeAll(async () => {
    old = await oldLayoutDir(oldDir);
    const reopened = await openDatabase({ dataDir: oldDir, templateDir: false });
    oldSchema = await schemaOf(reopened.db);
    await reopened.close();
    await makeTemplate(MIGRATIONS_DIR, templates);
  }, 180_000);

  it('is named by PGlite version and migrations, so a new migration makes it stale', () => {
    const file = templateFile(MIGRATIONS_DIR, templates);
    expect(existsSync(file)).toBe(true);
    expect(file).toMatch(/pglite-\d+\.\d+\.\d+-[0-9a-f]{12}\.tar\.gz$/);
    expect(file).toContain(migrationsHash(MIGRATIONS_DIR));
    expect(existsSync(join(templateDataDir(MIGRATIONS_DIR, templates), 'PG_VERSION'))).toBe(true);
  });

  it('a data directory made from it is the same database as one made by initdb + migrations', async () => {
    const made = await openDatabase({ dataDir: join(root, 'new', 'pgdata'), templateDir: templates });
    open.push(made);
    expect((oldSchema as { columns: unknown[] }).columns.length).toBeGreaterThan(50);
    expect(await schemaOf(made.db)).toEqual(oldSchema);

    // It did come from the template (initdb would have given it an identifier of its own).
    const twin = await openDatabase({ templateDir: templates });
    open.push(twin);
    expect(await systemId(made.db)).toBe(await systemId(twin.db));
    const reopenedOld = await openDatabase({ dataDir: oldDir, templateDir: false });
    const oldId = await systemId(reopenedOld.db);
    await reopenedOld.close();
    expect(await systemId(made.db)).not.toBe(oldId);

    // Nothing per-install comes from the template: the first start makes its own key and token.
    const fresh = await startLike(made.db);
    expect(fresh.secret).toMatch(/^lvf_/);
    expect(fresh.secret).not.toBe(old.secret);
    expect(fresh.kid).not.toBe(old.kid);
    expect(fresh.again).toEqual({ kid: fresh.kid, created: false });
    expect(await findToken(made.db, fresh.secret!)).toMatchObject({ scope: 'admin', name: 'bootstrap-admin' });
    expect(await findToken(made.db, old.secret)).toBeNull();

    // A data directory on disk is a copy of the unpacked template, which the first start's key
    // and token did not reach: the next new one starts as empty of them, from the same cluster.
    const stages: string[] = [];
    const next = await openDatabase({ dataDir: join(root, 'next', 'pgdata'), templateDir: templates, mark: (stage) => stages.push(stage) });
    open.push(next);
    expect(stages).toContain('PGlite start, data directory copied from the template');
    expect(await systemId(next.db)).toBe(await systemId(made.db));
    expect(await rows(next.db, sql`SELECT count(*)::int AS n FROM api_tokens`)).toEqual([{ n: 0 }]);
    expect(await schemaOf(next.db)).toEqual(oldSchema);
    expect(readdirSync(join(root, 'next')).sort()).toEqual(['pgdata']);
  });

  it('an empty data directory (made by hand, or by an older start) gets the template too', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const stages: string[] = [];
    const made = await openDatabase({ dataDir: empty, templateDir: templates, mark: (stage) => stages.push(stage) });
    expect(stages).toContain('PGlite start, data directory copied from the template');
    open.push(made);
    const twin = await openDatabase({ templateDir: templates });
    open.push(twin);
    expect(await systemId(made.db)).toBe(await systemId(twin.db));
    expect(await schemaOf(made.db)).toEqual(oldSchema);
  });

  it('a data directory of the previous layout still opens: same schema, key and admin token; the template is not loaded over it', async () => {
    const d = await openDatabase({ dataDir: oldDir, templateDir: templates });
    open.push(d);
    expect(await schemaOf(d.db)).toEqual(oldSchema);
    const again = await startLike(d.db);
    expect(again.kid).toBe(old.kid);
    expect(again.secret).toBeNull();
    expect(await findToken(d.db, old.secret)).toMatchObject({ scope: 'admin' });
    expect(await rows(d.db, sql`SHOW shared_buffers`)).toEqual([{ shared_buffers: '16MB' }]);
  });
});

describe('copying the unpacked template into place', () => {
  const base = join(root, 'copy');
  const fakeTemplates = join(base, 'templates');
  const made = templateDataDir(MIGRATIONS_DIR, fakeTemplates);
  beforeAll(() => {
    mkdirSync(join(made, 'base'), { recursive: true });
    writeFileSync(join(made, 'PG_VERSION'), '17\n');
    writeFileSync(join(made, 'base', 'file'), 'data');
  });

  it('copies into an absent or empty directory, with nothing left beside it', () => {
    for (const name of ['absent', 'empty']) {
      const target = join(base, name, 'pgdata');
      if (name === 'empty') mkdirSync(target, { recursive: true });
      expect(copyTemplateDataDir(target, MIGRATIONS_DIR, fakeTemplates)).toBe(true);
      expect(readFileSync(join(target, 'base', 'file'), 'utf8')).toBe('data');
      expect(readdirSync(join(base, name))).toEqual(['pgdata']);
    }
  });

  it('leaves a directory with anything in it to PGlite, and copies nothing without an unpacked template', () => {
    const used = join(base, 'used');
    mkdirSync(used, { recursive: true });
    writeFileSync(join(used, 'postgresql.conf'), '');
    expect(copyTemplateDataDir(used, MIGRATIONS_DIR, fakeTemplates)).toBe(false);
    expect(readdirSync(used)).toEqual(['postgresql.conf']);
    expect(copyTemplateDataDir(join(base, 'none'), MIGRATIONS_DIR, join(base, 'no-templates'))).toBe(false);
    expect(existsSync(join(base, 'none'))).toBe(false);
  });
});
