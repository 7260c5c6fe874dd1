import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiTokens, siteRevisions } from '../db/schema.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { useTestApp } from './test-app.test-support.ts';

const t = useTestApp();
const withAnnotation = (value: string) => {
  const s = parse(SEEDS_YAML);
  s.metadata.annotations = { note: value };
  return s;
};
const HOLDS = 'holds U+0000, which cannot be stored';

// PostgreSQL's text and jsonb cannot store U+0000: each of these was a 500 from the database.
describe('U+0000 in a request', () => {
  it('is refused in a JSON body with 400 naming its path, and nothing is stored', async () => {
    const res = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', json: withAnnotation('a\u0000b') });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_request', issues: [{ path: 'metadata.annotations.note', message: HOLDS }] } });
    const key = parse(SEEDS_YAML);
    key.metadata.labels = { ['team\u0000']: 'x' };
    const byKey = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', json: key });
    expect(byKey.status).toBe(400);
    expect((await byKey.json()).error.issues[0].path).toBe('metadata.labels.team\u0000');
    const made = await t.req('/v1/tokens', { method: 'POST', json: { name: 'c\u0000i', scope: 'viewer' } });
    expect(made.status).toBe(400);
    expect((await made.json()).error.issues[0].path).toBe('name');
    expect(await t.db.db.select().from(siteRevisions)).toEqual([]);
    expect((await t.db.db.select().from(apiTokens)).map((r) => r.name)).not.toContain('c\u0000i');
  });

  it('is refused in a query parameter (the apply message) with 400 naming it', async () => {
    const res = await t.req(`/v1/sites/bj-dc1/spec?message=${encodeURIComponent('hot\u0000fix')}`, { method: 'PUT', json: parse(SEEDS_YAML) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { issues: [{ path: 'query.message', message: HOLDS }] } });
    expect(await t.db.db.select().from(siteRevisions)).toEqual([]);
  });

  it('is refused in a YAML spec (an escaped \\0) as an invalid spec naming the field', async () => {
    const yaml = SEEDS_YAML.replace('metadata: { name: bj-dc1 }', 'metadata: { name: bj-dc1, annotations: { note: "a\\0b" } }');
    expect(parse(yaml).metadata.annotations.note).toBe('a\u0000b');
    const res = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml });
    expect(res.status).toBe(422);
    expect((await res.json()).error.issues[0]).toMatchObject({ path: 'metadata.annotations.note', message: HOLDS });
    expect(await t.db.db.select().from(siteRevisions)).toEqual([]);
  });

  it('takes an escaped backslash before u0000 (no NUL) as the text it is', async () => {
    const res = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', json: withAnnotation('C:\\u0000') });
    expect(res.status).toBe(200);
  });
});
