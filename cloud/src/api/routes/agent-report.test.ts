import { beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { MAX_STATUS_BYTES } from '#shared/wire/status.ts';
import { events, nodeStatus, nodes } from '../../db/schema.ts';
import { issueNodeCredentials } from '../../mqtt/credentials.ts';
import { expireSilentNodes } from '../../ingest/silent-nodes.ts';
import { useTestApp } from '../test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';

const t = useTestApp();
const NODE = 'bj-dc1.dr1';
let password = '';
beforeEach(async () => {
  expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
  password = (await issueNodeCredentials(t.db.db, NODE)).password;
});

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const report = (kind: 'status' | 'events', body: unknown, authorization = basic(NODE, password)) =>
  t.app.request(`/v1/agent/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const status = (online = true) => ({ nodeId: NODE, online, appliedRevision: 1, at: new Date().toISOString() });
const eventsOf = (type: string) =>
  t.db.db
    .select()
    .from(events)
    .where(and(eq(events.nodeId, NODE), eq(events.type, type)));

describe('POST /v1/agent/status and /v1/agent/events', () => {
  it('stores a status from the node whose credentials sent it, and node.online once', async () => {
    expect((await report('status', status())).status).toBe(204);
    expect((await report('status', status())).status).toBe(204);
    const [row] = await t.db.db.select().from(nodeStatus).where(eq(nodeStatus.nodeId, NODE));
    expect(row).toEqual(expect.objectContaining({ online: true, appliedRevision: 1 }));
    expect(await eventsOf('node.online')).toHaveLength(1);
  });

  it("takes a status as large as on the node's MQTT topic, past the API's general body limit; one over MAX_STATUS_BYTES is refused (413)", async () => {
    const realServers = Array.from({ length: 20_000 }, (_, i) => ({
      address: `10.99.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      port: 80,
      healthy: false,
      weight: 1,
      detail: 'connect timed out after 2000 ms',
    }));
    const big = { ...status(), services: [{ name: 'web', quorum: true, realServers }] };
    const size = JSON.stringify(big).length;
    expect(size).toBeGreaterThan(1024 * 1024);
    expect(size).toBeLessThan(MAX_STATUS_BYTES);
    const res = await report('status', big);
    expect(res.status, await res.clone().text()).toBe(204);
    const [row] = await t.db.db.select().from(nodeStatus).where(eq(nodeStatus.nodeId, NODE));
    expect((row.status as { services: { realServers: unknown[] }[] }).services[0].realServers).toHaveLength(20_000);
    expect((await report('status', JSON.stringify(big).padEnd(MAX_STATUS_BYTES + 1))).status).toBe(413);
    // Any other request keeps the general limit.
    expect((await report('events', JSON.stringify({ nodeId: NODE }).padEnd(1024 * 1024 + 1))).status).toBe(413);
  });

  it('stores an event', async () => {
    const e = {
      nodeId: NODE,
      type: 'vrrp.transition',
      at: new Date().toISOString(),
      data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down' },
    };
    const res = await report('events', e);
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await eventsOf('vrrp.transition')).toHaveLength(1);
  });

  it('refuses missing or wrong credentials (401), a payload naming another node (403), bad JSON or schema (400)', async () => {
    expect((await report('status', status(), '')).status).toBe(401);
    expect((await report('status', status(), basic(NODE, 'wrong'))).status).toBe(401);
    expect((await report('status', status(), basic('bj-dc1.nobody', password))).status).toBe(401);
    const other = await report('status', { ...status(), nodeId: 'bj-dc1.dr2' });
    expect(other.status).toBe(403);
    expect((await other.json()).error.code).toBe('forbidden');
    expect((await report('status', '{not json')).status).toBe(400);
    const bad = await report('status', { nodeId: NODE, online: 'yes' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/online/);
    // What the database cannot store is refused as input, not failed on as a 500.
    const nul = await report('status', { ...status(), agentVersion: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect((await nul.json()).error.message).toMatch(/agentVersion: holds U\+0000/);
    const year0 = await report('events', { nodeId: NODE, type: 'apply.failed', at: '0000-01-01T00:00:00Z', data: { revision: 1, error: 'x' } });
    expect(year0.status).toBe(400);
    expect((await year0.json()).error.message).toMatch(/at: before year 1/);
    expect(await t.db.db.select().from(nodeStatus)).toHaveLength(0);
  });

  it('takes no bearer token: a viewer token is no node credential', async () => {
    expect((await report('status', status(), `Bearer ${t.tokens.viewer}`)).status).toBe(401);
  });
});

describe('expireSilentNodes (the last will of nodes that report over HTTPS)', () => {
  it('marks a node silent for longer than the window offline, once, keeping what it last said', async () => {
    expect((await report('status', status())).status).toBe(204);
    const now = Date.now();
    expect(await expireSilentNodes(t.db.db, new Date(now + 10_000), 45_000)).toEqual([]);
    expect(await expireSilentNodes(t.db.db, new Date(now + 46_000), 45_000)).toEqual([NODE]);
    expect(await expireSilentNodes(t.db.db, new Date(now + 90_000), 45_000)).toEqual([]);
    const [row] = await t.db.db.select().from(nodeStatus).where(eq(nodeStatus.nodeId, NODE));
    expect(row).toEqual(expect.objectContaining({ online: false, appliedRevision: 1 }));
    expect(await eventsOf('node.offline')).toHaveLength(1);
    // The node comes back: online again, and node.online a second time.
    expect((await report('status', status())).status).toBe(204);
    expect(await eventsOf('node.online')).toHaveLength(2);
  });

  it('leaves a node removed from the spec alone: its silence is expected, not an outage', async () => {
    expect((await report('status', status())).status).toBe(204);
    await t.db.db.update(nodes).set({ removedAt: new Date() }).where(eq(nodes.id, NODE));
    expect(await expireSilentNodes(t.db.db, new Date(Date.now() + 46_000), 45_000)).toEqual([]);
    expect(await eventsOf('node.offline')).toHaveLength(0);
  });
});
