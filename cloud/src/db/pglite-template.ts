import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A pre-initialised PGlite data directory: initdb plus every migration, dumped as one gzipped
 * tar. A first start loads it (PGlite's `loadDataDir`) instead of running initdb, which costs a
 * second PGlite instance, most of 20 s on a busy machine and hundreds of MiB that the WASM heap
 * never gives back. It holds no keys, tokens or sites: those are made at start as before.
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
    return file;
  } finally {
    await client.close();
  }
}
