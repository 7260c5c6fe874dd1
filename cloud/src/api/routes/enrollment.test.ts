import { beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { EnrollResponse } from '#shared/wire/enroll.ts';
import { loadSigner } from '../../keys/signing.ts';
import { issueNodeCredentials, verifyNodeCredentials } from '../../mqtt/credentials.ts';
import { auditLog, enrollmentTokens } from '../../db/schema.ts';
import { createEnrollmentToken } from '../../sites/enrollment.ts';
import { requireSite } from '../../sites/queries.ts';
import { createApp } from '../app.ts';
import { useTestApp } from '../test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';

// The real signer and credential store (cloud/src/keys, cloud/src/mqtt) over the same database.
const t = useTestApp({
  deps: (db) => ({ signer: { publicJwks: async () => (await loadSigner(db)).publicJwks() }, issueNodeCredentials, mqttUrl: 'mqtt://127.0.0.1:18830' }),
});
beforeEach(async () => {
  expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
});

const makeToken = (node = 'dr1', as: 'operator' | 'viewer' = 'operator') => t.req(`/v1/sites/bj-dc1/nodes/${node}/enrollment`, { method: 'POST', as });
const enroll = (token: string) =>
  t.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });

describe('enrollment', () => {
  it('an operator gets a one-time token valid for an hour, stored only as a hash', async () => {
    const before = Date.now();
    const res = await makeToken();
    expect(res.status).toBe(200);
    const { token, expiresAt } = await res.json();
    expect(token.length).toBeGreaterThan(30);
    const ttl = Date.parse(expiresAt) - before;
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThan(3_610_000);
    const rows = await t.db.db.select().from(enrollmentTokens);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    const audits = await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'enrollment.create'));
    expect(audits).toHaveLength(1);
  });

  it('answers 403 for a viewer and 404 for an unknown node or site', async () => {
    expect((await makeToken('dr1', 'viewer')).status).toBe(403);
    expect((await makeToken('dr9')).status).toBe(404);
    expect((await t.req('/v1/sites/nope/nodes/dr1/enrollment', { method: 'POST' })).status).toBe(404);
  });

  it('trades the token once for broker credentials that verify and the public signing keys', async () => {
    const { token } = await (await makeToken()).json();
    const res = await enroll(token);
    expect(res.status).toBe(200);
    const body = EnrollResponse.parse(await res.json());
    expect(body).toMatchObject({ nodeId: 'bj-dc1.dr1', site: 'bj-dc1', node: 'dr1', mqtt: { url: 'mqtt://127.0.0.1:18830', username: 'bj-dc1.dr1' } });
    expect(body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(body.keys[0]).not.toHaveProperty('d');
    expect(await verifyNodeCredentials(t.db.db, 'bj-dc1.dr1', body.mqtt.password)).toBe(true);
    const again = await enroll(token);
    expect(again.status).toBe(401);
    expect((await again.json()).error.code).toBe('invalid_token');
  });

  it('answers 401 invalid_token for unknown and expired tokens, 400 for a malformed body', async () => {
    expect((await enroll('lve_' + 'x'.repeat(40))).status).toBe(401);
    const site = await requireSite(t.db.db, 'default', 'bj-dc1');
    const old = await createEnrollmentToken(t.db.db, {
      orgId: 'default',
      site,
      node: 'dr2',
      actor: 'test',
      ttlMs: 60_000,
      now: new Date(Date.now() - 120_000),
    });
    const res = await enroll(old.token);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('invalid_token');
    const bad = await t.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tok":1}' });
    expect(bad.status).toBe(400);
  });

  it('a token of a node removed since answers 401', async () => {
    const { token } = await (await makeToken('rs2')).json();
    const spec = SEEDS_YAML.replace('    - { name: rs2, role: realserver, address: 192.168.1.133 }\n', '').replace(
      '        - { node: rs2, port: 80, weight: 1 }\n',
      '',
    );
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: spec })).status).toBe(200);
    expect((await enroll(token)).status).toBe(401);
  });

  it('answers 503 where no signer or broker is wired (a deployment without MQTT_URL)', async () => {
    const bare = createApp({ db: t.db.db });
    const { token } = await (await makeToken()).json();
    const res = await bare.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(res.status).toBe(503);
  });

  it('generates /openapi.json even when shared/ schemas were built before zod was extended', async () => {
    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect((await res.json()).paths['/v1/agent/enroll'].post.requestBody).toBeDefined();
  });
});
