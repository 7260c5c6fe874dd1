import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApiToken } from '../auth/tokens.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.ts';
import { createApp } from './app.ts';
import type { App, AppDeps } from './context.ts';

/** The seeds' DR site (examples/seeds-lvs-dr.yaml) as text. */
export const SEEDS_YAML = readFileSync(fileURLToPath(new URL('../../../examples/seeds-lvs-dr.yaml', import.meta.url)), 'utf8');

export interface TestApp {
  db: TestDatabase;
  app: App;
  tokens: { admin: string; operator: string; viewer: string };
  kicks: number;
  /** app.request with a bearer token (admin unless `as` says otherwise). */
  req(path: string, init?: RequestInit & { as?: 'admin' | 'operator' | 'viewer' | null; yaml?: string; json?: unknown }): Promise<Response>;
  /** Empties the database and makes fresh tokens (between tests). */
  reset(): Promise<void>;
}

/** One app over one test database (PGlite, or PostgreSQL when DATABASE_URL is set) per test file. */
export async function openTestApp(extra: Partial<AppDeps> = {}): Promise<TestApp> {
  const db = await openTestDatabase();
  const t: TestApp = {
    db,
    app: undefined as unknown as App,
    tokens: { admin: '', operator: '', viewer: '' },
    kicks: 0,
    async req(path, init = {}) {
      const { as = 'admin', yaml, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (as) headers.set('authorization', `Bearer ${t.tokens[as]}`);
      let body = rest.body;
      if (yaml !== undefined) {
        headers.set('content-type', 'application/yaml');
        body = yaml;
      } else if (json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(json);
      }
      return t.app.request(path, { ...rest, headers, body });
    },
    async reset() {
      await db.truncate();
      t.kicks = 0;
      for (const scope of ['admin', 'operator', 'viewer'] as const) t.tokens[scope] = (await createApiToken(db.db, { name: `test-${scope}`, scope })).secret;
    },
  };
  t.app = createApp({ db: db.db, kick: () => void t.kicks++, ...extra });
  await t.reset();
  return t;
}
