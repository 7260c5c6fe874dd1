import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createApiToken } from '../auth/tokens.ts';
import type { Db } from '../db/client.ts';
import { openTestDatabase, type TestDatabase } from '../db/test-db.test-support.ts';
import { createApp } from './app.ts';
import type { App, AppDeps } from './context.ts';

export interface TestApp {
  db: TestDatabase;
  app: App;
  tokens: { admin: string; operator: string; viewer: string };
  /** Publisher kicks since the last reset. */
  kicks: number;
  /** The app served over HTTP on 127.0.0.1 (only with `listen`). */
  url: string;
  /** app.request with a bearer token (admin unless `as` says otherwise). */
  req(path: string, init?: RequestInit & { as?: 'admin' | 'operator' | 'viewer' | null; yaml?: string; json?: unknown }): Promise<Response>;
  /** Empties the database and makes fresh tokens (between tests). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** More app deps, given the test database (a real signer or credential store over it). */
  deps?: (db: Db) => Partial<AppDeps>;
  /** Also serve the app over HTTP on a loopback port (for the CLI, a browser). */
  listen?: boolean;
}

/** One app over one test database (PGlite, or PostgreSQL when DATABASE_URL is set). */
async function openTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const db = await openTestDatabase();
  let server: Server | undefined;
  const t: TestApp = {
    db,
    app: undefined as unknown as App,
    tokens: { admin: '', operator: '', viewer: '' },
    kicks: 0,
    url: '',
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
    async close() {
      if (server) await new Promise((r) => server!.close(r));
      await db.close();
    },
  };
  t.app = createApp({ db: db.db, kick: () => void t.kicks++, ...opts.deps?.(db.db) });
  if (opts.listen) {
    const s = createServer((req, res) => void getRequestListener(t.app.fetch)(req, res));
    server = s;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    t.url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
  await t.reset();
  return t;
}

/**
 * The set-up of a test file (or describe block) over one app: opened before all its tests,
 * closed after, and reset before each test unless `reset: 'once'`. The answer reads through to
 * the open app, so `kicks` and `tokens` are always the current ones.
 */
export function useTestApp(opts: TestAppOptions & { reset?: 'each' | 'once' } = {}): TestApp {
  let open: TestApp | undefined;
  beforeAll(async () => {
    open = await openTestApp(opts);
  });
  afterAll(async () => {
    await open?.close();
  });
  if ((opts.reset ?? 'each') === 'each') beforeEach(async () => open!.reset());
  const current = (): TestApp => {
    if (!open) throw new Error('the test app opens in beforeAll: use it inside hooks and tests');
    return open;
  };
  return new Proxy({} as TestApp, {
    get: (_, key) => Reflect.get(current(), key),
    set: (_, key, value) => Reflect.set(current(), key, value),
  });
}
