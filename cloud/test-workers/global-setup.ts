import type { TestProject } from 'vitest/node';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApiToken } from '../src/auth/tokens.ts';
import { openTestDatabase, type TestDatabase } from '../src/db/test-db.test-support.ts';
import { applySite } from '../src/sites/apply.ts';
import { Site } from '#shared/site/site.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    workersDatabaseUrl?: string;
    workersToken?: string;
  }
}

let db: TestDatabase | undefined;

/**
 * Runs in Node before the workerd tests: with DATABASE_URL, a fresh PostgreSQL database with the
 * seeds' site applied and a viewer token; without it, nothing (the tests skip and say why).
 */
export async function setup(project: TestProject): Promise<void> {
  if (!process.env.DATABASE_URL) return;
  db = await openTestDatabase();
  const seeds = Site.parse(parse(readFileSync(fileURLToPath(new URL('../../examples/seeds-lvs-dr.yaml', import.meta.url)), 'utf8')));
  const token = await createApiToken(db.db, { name: 'workers-test', scope: 'viewer' });
  await applySite(db.db, { orgId: 'default', site: seeds, author: 'workers-setup' });
  project.provide('workersDatabaseUrl', db.url!);
  project.provide('workersToken', token.secret);
}

export async function teardown(): Promise<void> {
  await db?.close();
}
