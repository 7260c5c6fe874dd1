import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { topics } from '#shared/wire/topics.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { events, nodeStatus, outbox } from '../src/db/schema.ts';
import { call, randomPassword, startCloud, type Cloud } from './harness.test-support.ts';
import { connectAs, endQuietly } from './mqtt-client.test-support.ts';
import { freePort } from './net.test-support.ts';
import { unverifiedClaims } from './jws.test-support.ts';

/**
 * A staged rollout end to end on the embedded stack (PGlite, aedes, publisher, ingest, the
 * rollout driver): d1 and the real server r1 are real agents in dry-run; d1, alone on its VRRP
 * instance, is MASTER. Dry-run VRRP hears nobody, so a second dry-run director would be MASTER
 * too: d2 is a scripted agent on the real broker instead, with its own enrolled credentials,
 * reporting BACKUP and applying (or failing) what it is sent. Revision 2 goes to d2 and r1
 * first and to d1 only after the bake; revision 3, which d2 fails, is rolled back on d2 and r1 by
 * revision 4 and never reaches d1.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const SITE = 'sr';
const RS_PORT = 42080;
const BAKE_MS = 2000;

function spec(extraService: number | null): string {
  const s = {
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: SITE },
    spec: {
      nodes: [
        { name: 'd1', role: 'director', address: '127.0.0.1', interface: 'lo' },
        { name: 'd2', role: 'director', address: '127.0.0.3', interface: 'lo' },
        { name: 'r1', role: 'realserver', address: '127.0.0.2' },
      ],
      vrrp: [
        {
          name: 'VI_1',
          vrid: 62,
          advertInterval: '1s',
          vips: ['127.0.0.50/32'],
          members: [
            { node: 'd1', priority: 100 },
            { node: 'd2', priority: 90 },
          ],
        },
      ],
      services: [
        { name: 'web', vip: '127.0.0.50', port: RS_PORT, healthCheck: { type: 'tcp', interval: '1s' }, realServers: [{ node: 'r1', weight: 1 }] },
        // A second VIP on the real server changes r1's config too, so r1 is in the first stage.
        ...(extraService === null
          ? []
          : [
              {
                name: `api${extraService}`,
                vip: `127.0.0.${50 + extraService}`,
                port: RS_PORT,
                healthCheck: { type: 'tcp', interval: '1s' },
                realServers: [{ node: 'r1' }],
              },
            ]),
      ],
      rollout: { bake: `${BAKE_MS}ms`, stageTimeout: '60s' },
    },
  };
  return stringify(s);
}

const live = new Set<ChildProcess>();
function start(args: string[]) {
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'lvsfleet-agent.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(p);
  let out = '';
  p.stdout!.on('data', (b) => (out += b));
  p.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number>((r) => p.on('close', (c) => (live.delete(p), r(c ?? -1))));
  return { p, exited, output: () => out };
}

/** d2: applies every revision it is sent, except `failing` ones, which it reports failed (status and apply.failed). */
class ScriptedBackup {
  applied = 1;
  received: number[] = [];
  failing = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly c: MqttClient,
    private readonly nodeId: string,
  ) {}

  static async connect(url: string, creds: { username: string; password: string }, nodeId: string): Promise<ScriptedBackup> {
    const c = await connectAs(url, creds.username, creds.password);
    const b = new ScriptedBackup(c, nodeId);
    c.on('message', (_topic, payload) => void b.onDesired(payload.toString()));
    await c.subscribeAsync(topics.desired(nodeId), { qos: 1 });
    b.timer = setInterval(() => void b.report(null), 2000);
    return b;
  }

  private async onDesired(jws: string): Promise<void> {
    const claims = unverifiedClaims<{ revision: number }>(jws);
    if (claims.revision <= this.applied || this.received.includes(claims.revision)) return;
    this.received.push(claims.revision);
    if (!this.failing.has(claims.revision)) {
      this.applied = claims.revision;
      return this.report(null);
    }
    const error = `ipvs: refusing revision ${claims.revision}`;
    await this.c.publishAsync(
      topics.events(this.nodeId),
      JSON.stringify({ nodeId: this.nodeId, at: new Date().toISOString(), type: 'apply.failed', data: { revision: claims.revision, error } }),
      {
        qos: 1,
      },
    );
    await this.report({ revision: claims.revision, error });
  }

  private pending: { revision: number; error: string } | null = null;
  async report(failed: { revision: number; error: string } | null): Promise<void> {
    if (failed) this.pending = failed;
    else if (this.pending && this.applied > this.pending.revision) this.pending = null;
    const s: NodeStatus = {
      nodeId: this.nodeId,
      online: true,
      at: new Date().toISOString(),
      appliedRevision: this.applied,
      pendingRevision: this.pending?.revision ?? null,
      errors: this.pending ? [this.pending.error] : [],
      vrrp: [{ instance: 'VI_1', vrid: 62, state: 'BACKUP', priority: 90, effectivePriority: 90 }],
    };
    await this.c.publishAsync(topics.status(this.nodeId), JSON.stringify(s), { qos: 1, retain: true }).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await endQuietly(this.c);
  }
}

describe('staged rollout on the embedded stack', () => {
  let cloud: Cloud;
  let dir: string;
  let token: string;
  let d2: ScriptedBackup;
  let rs: Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsfleet-rollout-'));
    cloud = await startCloud({ dataDir: join(dir, 'cloud'), broker: { kind: 'aedes', port: await freePort(), internalPassword: randomPassword() } });
    token = cloud.newAdminToken!;
    // What the real server serves, so the directors' checks see r1 up.
    rs = createServer((s) => s.end());
    await new Promise<void>((r) => rs.listen(RS_PORT, '127.0.0.2', r));
  }, 120_000);
  afterAll(async () => {
    for (const p of live) p.kill('SIGKILL');
    await d2?.close();
    rs?.close();
    await cloud?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const api = (method: string, path: string, body?: { yaml?: string; json?: unknown }) => call(cloud.url, token, method, path, body);
  const status = async (node: string) => {
    const [row] = await cloud.db.db
      .select()
      .from(nodeStatus)
      .where(eq(nodeStatus.nodeId, `${SITE}.${node}`));
    return (row?.status ?? null) as NodeStatus | null;
  };
  const rowsOf = async (revision: number) =>
    Object.fromEntries(
      (await cloud.db.db.select().from(outbox).where(eq(outbox.revision, revision)).orderBy(asc(outbox.id))).map((r) => [r.nodeId.split('.')[1], r]),
    );

  it('revision 1 everywhere; d1 MASTER, d2 BACKUP, all reporting', async () => {
    expect((await api('PUT', `/v1/sites/${SITE}/spec`, { yaml: spec(null) })).status).toBe(200);
    for (const node of ['d1', 'd2', 'r1']) {
      const tok = (await api('POST', `/v1/sites/${SITE}/nodes/${node}/enrollment`)).json.token as string;
      if (node === 'd2') {
        const e = await call(cloud.url, null, 'POST', '/v1/agent/enroll', { json: { token: tok } });
        d2 = await ScriptedBackup.connect(cloud.mqttUrl, e.json.mqtt, e.json.nodeId);
        continue;
      }
      const config = join(dir, `${node}.json`);
      const enroll = start(['enroll', '--url', cloud.url, '--token', tok, '--config', config]);
      expect(await enroll.exited, enroll.output()).toBe(0);
      start(['run', '--config', config, '--state-dir', join(dir, `${node}-state`), '--dataplane', 'dry-run']);
    }
    await waitFor(
      async () => {
        const [a, b, c] = [await status('d1'), await status('d2'), await status('r1')];
        return a?.appliedRevision === 1 && a.vrrp?.[0]?.state === 'MASTER' && b?.appliedRevision === 1 && c?.appliedRevision === 1;
      },
      { timeoutMs: 60_000, what: 'd1 MASTER on revision 1, d2 and r1 on revision 1' },
    );
  }, 90_000);

  it('revision 2 goes to d2 and r1 first, and to the MASTER d1 only after they baked', async () => {
    const res = await api('PUT', `/v1/sites/${SITE}/spec`, { yaml: spec(1) });
    expect(res.json).toMatchObject({ revision: 2, staged: true });
    expect(res.json.publishedNodes.sort()).toEqual(['d1', 'd2', 'r1']);
    const view = (await api('GET', `/v1/sites/${SITE}/rollout`)).json;
    expect(view.current.stages).toEqual([
      { name: 'backups', nodes: ['d2', 'r1'] },
      { name: 'masters', nodes: ['d1'] },
    ]);
    await waitFor(async () => (await status('r1'))?.appliedRevision === 2 && d2.applied === 2, { timeoutMs: 30_000, what: 'd2 and r1 on revision 2' });
    const appliedAt = Date.now();
    // Both backups applied: d1 still runs revision 1 and its document is held.
    expect((await rowsOf(2)).d1.status).toBe('held');
    expect((await status('d1'))?.appliedRevision).toBe(1);
    await waitFor(async () => (await api('GET', `/v1/sites/${SITE}/rollout`)).json.history[0].state === 'completed', {
      timeoutMs: 60_000,
      what: 'the rollout of revision 2 completed',
    });
    const rows = await rowsOf(2);
    expect(rows.d1.status).toBe('published');
    expect(rows.d1.publishedAt!.getTime()).toBeGreaterThanOrEqual(appliedAt - 1000 + BAKE_MS);
    expect((await status('d1'))?.appliedRevision).toBe(2);
    const types = (
      await cloud.db.db
        .select({ type: events.type })
        .from(events)
        .where(and(eq(events.siteId, rows.d1.siteId)))
        .orderBy(asc(events.id))
    )
      .map((e) => e.type)
      .filter((t) => t.startsWith('rollout.'));
    expect(types).toEqual(['rollout.started', 'rollout.stage', 'rollout.stage', 'rollout.completed']);
  }, 120_000);

  it('revision 3 fails on the BACKUP: d2 and r1 get revision 2 back as revision 4; the MASTER never receives revision 3', async () => {
    d2.failing.add(3);
    const res = await api('PUT', `/v1/sites/${SITE}/spec`, { yaml: spec(2) });
    expect(res.json).toMatchObject({ revision: 3, staged: true });
    await waitFor(async () => (await api('GET', `/v1/sites/${SITE}/rollout`)).json.history[0].state === 'rolled_back', {
      timeoutMs: 60_000,
      what: 'the rollout of revision 3 rolled back',
    });
    const r = (await api('GET', `/v1/sites/${SITE}/rollout`)).json.history[0];
    expect(r).toMatchObject({ revision: 3, reason: 'd2 failed to apply revision 3: ipvs: refusing revision 3', released: ['d2', 'r1'], rollbackRevision: 4 });
    await waitFor(async () => (await status('r1'))?.appliedRevision === 4 && d2.applied === 4, { timeoutMs: 30_000, what: 'd2 and r1 on revision 4' });
    expect(d2.received).toEqual([2, 3, 4]);
    // d1: its revision 3 document was dropped unsent, it got no revision 4 (nothing to restore), and it runs revision 2.
    expect((await rowsOf(3)).d1).toMatchObject({ status: 'skipped', publishedAt: null });
    expect((await rowsOf(4)).d1).toBeUndefined();
    expect(Object.keys(await rowsOf(4)).sort()).toEqual(['d2', 'r1']);
    expect((await status('d1'))?.appliedRevision).toBe(2);
    const site = (await api('GET', `/v1/sites/${SITE}`)).json;
    expect(site.revision).toBe(4);
    expect(site.spec.spec.services.map((s: { name: string }) => s.name)).toEqual(['web', 'api1']);
    // The site is in sync again: every node runs the spec of revision 4.
    const nodes = (await api('GET', `/v1/sites/${SITE}/status`)).json.nodes as { name: string; desiredRevision: number; appliedRevision: number }[];
    expect(nodes.map((n) => [n.name, n.desiredRevision, n.appliedRevision])).toEqual([
      ['d1', 2, 2],
      ['d2', 4, 4],
      ['r1', 4, 4],
    ]);
  }, 120_000);
});
