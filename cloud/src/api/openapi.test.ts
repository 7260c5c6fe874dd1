import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { createApp } from './app.ts';
import { TAGS } from './openapi.ts';

type Operation = { operationId?: string; tags?: string[]; summary?: string; description?: string; security?: unknown[] };
type Doc = { servers: { url: string }[]; tags: { name: string; description: string }[]; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
// REDOCLY_BIN: another redocly binary (one from the npx cache, say) when node_modules has none.
const REDOCLY = process.env.REDOCLY_BIN ?? join(import.meta.dirname, '../../../node_modules/.bin/redocly');
const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-openapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The document as the Node server serves it (with metrics); no request touches the database. */
async function document(origin = 'http://127.0.0.1:8080'): Promise<Doc> {
  const app = createApp({ db: {} as Db, metrics: { middleware: (_c, next) => next(), render: async () => ({ contentType: 'text/plain', body: '' }) } });
  return (await (await app.request(`${origin}/openapi.json`)).json()) as Doc;
}

function operations(doc: Doc): { key: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, op]) => ({ key: `${m} ${path}`, op })),
  );
}

describe('the OpenAPI document', () => {
  it('gives every operation a unique operationId, known tags, a summary and a description', async () => {
    const ops = operations(await document());
    expect(ops.length).toBeGreaterThan(20);
    const known = new Set<string>(TAGS.map((t) => t.name));
    for (const { key, op } of ops) {
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, key).toBeGreaterThan(0);
      for (const tag of op.tags ?? []) expect(known.has(tag), `${key}: tag ${tag}`).toBe(true);
      expect(op.summary, key).toBeTruthy();
      expect(op.description?.length ?? 0, key).toBeGreaterThan(20);
    }
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents /healthz and /metrics without a token, and lists the server that served it', async () => {
    const doc = await document('https://lb.example.com');
    expect(doc.servers).toEqual([{ url: 'https://lb.example.com', description: expect.any(String) }]);
    expect(doc.paths['/healthz'].get).toMatchObject({ operationId: 'getHealth', security: [] });
    expect(doc.paths['/metrics'].get).toMatchObject({ operationId: 'getMetrics', security: [] });
    expect(doc.paths['/v1/audit'].get.operationId).toBe('listAudit');
    expect(doc.tags.map((t) => t.name)).toEqual(TAGS.map((t) => t.name));
  });

  it('cites no file', async () => {
    expect(JSON.stringify(await document())).not.toMatch(/\.(ts|md|mjs)\b/);
  });

  it.skipIf(!existsSync(REDOCLY))('passes `redocly lint` with no errors (needs @redocly/cli from npm ci)', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(await document(), null, 2));
    const r = spawnSync(REDOCLY, ['lint', file, '--format=stylish'], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\berror\b/);
    expect(r.status).toBe(0);
  });
});
