import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A pre-initialised PGlite data directory: initdb plus every migration, kept twice: dumped as one
 * gzipped tar, which an in-memory database (tests) loads with PGlite's `loadDataDir`, and
 * unpacked as a closed data directory, which a first start on disk copies into place and then
 * opens like any existing one. Either saves running initdb, which costs a second PGlite instance,
 * most of 20 s on a busy machine and hundreds of MiB that the WASM heap never gives back; the
 * copy also saves unpacking the tar inside the WASM heap (~130 MiB that stay resident). It holds
 * no keys, tokens or sites: those are made at start as before.
 *
 * It is made on this machine (`npm run db:template`, run by `postinstall`), never fetched. Its
 * name carries the PGlite version and a hash of migrations/, so a PGlite upgrade or a new
 * migration makes it stale and a start falls back to initdb until it is made again.
 */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../../.cache/pgdata/', import.meta.url));

/**
 * Memory settings for every PGlite the cloud opens. shared_buffers is 128MB out of initdb and
 * the WASM heap touches all of it at start; 16MB holds the working set of a 1,000-node site.
 * The rest of PGlite's defaults are kept (single-user mode, no parallel workers).
 */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, '-c', 'shared_buffers=16MB'];
}

/** The template file for this PGlite version and these migrations. */
export function templateFile(migrationsDir: string, dir = TEMPLATE_DIR): string {
  return join(dir, `pglite-${pgliteVersion()}-${migrationsHash(migrationsDir)}.tar.gz`);
}

/** sha256 (12 hex) over every file of migrations/ (SQL and drizzle's journal), by name. */
export function migrationsHash(migrationsDir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    for (const e of readdirSync(join(migrationsDir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(rel, e.name);
      if (e.isDirectory()) walk(path);
      else
        h.update(`${path}\0`)
          .update(readFileSync(join(migrationsDir, path)))
          .update('\0');
    }
  };
  walk('');
  return h.digest('hex').slice(0, 12);
}

function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The unpacked template data directory for this PGlite version and these migrations. */
export function templateDataDir(migrationsDir: string, dir = TEMPLATE_DIR): string {
  return templateFile(migrationsDir, dir).replace(/\.tar\.gz$/, '');
}

/**
 * Puts a copy of the unpacked template at `dataDir` when there is one for these migrations and
 * `dataDir` is absent or empty; answers whether it did. The copy is made beside `dataDir` and
 * renamed into place, so a crash never leaves a half-copied data directory that looks made.
 */
export function copyTemplateDataDir(dataDir: string, migrationsDir: string, dir = TEMPLATE_DIR): boolean {
  const template = templateDataDir(migrationsDir, dir);
  if (!existsSync(join(template, 'PG_VERSION'))) return false;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false;
  const tmp = `${dataDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(template, tmp, { recursive: true });
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(tmp, dataDir);
  return true;
}

/** The template's bytes when one exists for these migrations, else null (a start then runs initdb). */
export function readTemplate(migrationsDir: string, dir = TEMPLATE_DIR): Blob | null {
  const file = templateFile(migrationsDir, dir);
  return existsSync(file) ? new Blob([readFileSync(file)]) : null;
}

/**
 * Makes the template: initdb and the migrations in an in-memory PGlite, dumped to `dir`, written
 * atomically so a concurrent start never reads half a file. Answers the file written.
 */
export async function makeTemplate(migrationsDir: string, dir = TEMPLATE_DIR): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = new PGlite({ startParams: pgliteStartParams(PGlite.defaultStartParams) });
  try {
    await migrate(drizzle(client), { migrationsFolder: migrationsDir });
    await client.exec('CHECKPOINT');
    const blob = await client.dumpDataDir('gzip');
    const file = templateFile(migrationsDir, dir);
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
    renameSync(tmp, file);
    await unpackTemplate(blob, templateDataDir(migrationsDir, dir));
    return file;
  } finally {
    await client.close();
  }
}

/** Loads the dump into a PGlite on disk at `target` and closes it cleanly: what a first start would have made of it. */
async function unpackTemplate(blob: Blob, target: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const tmp = `${target}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const disk = new PGlite({ dataDir: tmp, loadDataDir: blob, startParams: pgliteStartParams(PGlite.defaultStartParams) });
  await disk.waitReady;
  await disk.close();
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
}
