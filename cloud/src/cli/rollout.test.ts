import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { NodeStatus } from '#shared/wire/status.ts';
import { useTestApp } from '../api/test-app.test-support.ts';
import { nodeStatus, outbox, sites } from '../db/schema.ts';
import { advanceRollout } from '../rollout/advance.ts';
import { loadReports } from '../rollout/reports.ts';
import { activeRollout } from '../rollout/store.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';

/**
 * `lvsfleet apply --wait` and `lvsfleet rollout …` in-process against the served app. The app has
 * no driver here: the tests move the rollout with ticks of their own, and write the reports
 * agents would send.
 */
const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-cli-rollout-'));
const t = useTestApp({ listen: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SITE = 'bj-dc1';

function specFile(weight: number): string {
  const s = parse(SEEDS_YAML);
  s.spec.rollout = { bake: '1s' };
  s.spec.services[0].realServers[0].weight = weight;
  const file = join(dir, `w${weight}.yaml`);
  writeFileSync(file, stringify(s));
  return file;
}

async function cli(args: string[]) {
  const io = memoryIO({ LVSFLEET_URL: t.url, LVSFLEET_TOKEN: t.tokens.admin }, '', dir);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

async function report(applied: Record<string, number>, extra: Record<string, Partial<NodeStatus>> = {}) {
  const vrrp = (state: 'MASTER' | 'BACKUP') => [{ instance: 'VI_1', vrid: 50, state, priority: 100, effectivePriority: 100 }];
  for (const node of ['dr1', 'dr2', 'rs1', 'rs2']) {
    const nodeId = `${SITE}.${node}`;
    const status: NodeStatus = {
      nodeId,
      online: true,
      appliedRevision: applied[node] ?? 1,
      vrrp: node === 'dr1' ? vrrp('MASTER') : node === 'dr2' ? vrrp('BACKUP') : [],
      ...extra[node],
    };
    const at = new Date();
    await t.db.db
      .insert(nodeStatus)
      .values({ nodeId, online: true, appliedRevision: status.appliedRevision ?? null, status, updatedAt: at })
      .onConflictDoUpdate({ target: nodeStatus.nodeId, set: { status, appliedRevision: status.appliedRevision ?? null, updatedAt: at } });
  }
}

async function tick() {
  const [s] = await t.db.db.select({ id: sites.id }).from(sites).where(eq(sites.name, SITE));
  const row = await activeRollout(t.db.db, s.id);
  if (!row) return;
  const now = new Date();
  await advanceRollout({ db: t.db.db }, row.id, { type: 'tick', reports: await loadReports(t.db.db, s.id, row.revision, row.createdAt, now.getTime()) }, now);
}

/** Revision 1 applied everywhere, as agents would report it. */
async function live() {
  expect((await cli(['apply', '-f', specFile(2)])).code).toBe(0);
  await t.db.db.update(outbox).set({ status: 'published' });
  await report({});
}

const later = (ms: number, fn: () => Promise<void>) => new Promise<void>((r) => setTimeout(() => void fn().then(r), ms));

describe('lvsfleet apply --wait', () => {
  it('follows an unstaged revision until every node reports it applied', async () => {
    const [r] = await Promise.all([cli(['apply', '-f', specFile(2), '--wait', '--timeout', '10s']), later(300, () => report({}))]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('  dr1: applied revision 1\n');
    expect(r.out).toContain('revision 1 applied on 4 node(s)\n');
  });

  it('shows the stages of a staged rollout: the BACKUP, the bake, then the MASTER', async () => {
    await live();
    // Agents that apply what they are sent, and a driver ticking every 200 ms, until the CLI is done.
    let done = false;
    const moving = (async () => {
      while (!done) {
        const sent = await t.db.db
          .select()
          .from(outbox)
          .where(and(eq(outbox.revision, 2), eq(outbox.status, 'pending')));
        await report(Object.fromEntries(sent.map((o) => [o.nodeId.split('.')[1], 2])));
        await tick();
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const r = await cli(['apply', '-f', specFile(7), '--wait', '--timeout', '20s']);
    done = true;
    await moving;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const at = (s: string) => lines.indexOf(s);
    expect(at('stage 1/2 (backups): published to dr2')).toBeGreaterThan(-1);
    expect(at('  dr2: applied revision 2')).toBeGreaterThan(at('stage 1/2 (backups): published to dr2'));
    expect(at('stage 2/2 (masters): published to dr1')).toBeGreaterThan(at('  dr2: applied revision 2'));
    expect(at('rollout of revision 2 completed')).toBeGreaterThan(at('  dr1: applied revision 2'));
  });

  it('exits 1 when the BACKUP fails and the rollout rolls back; the MASTER stays held', async () => {
    await live();
    const moving = later(300, async () => {
      await report({}, { dr2: { pendingRevision: 2, errors: ['ipvs: refused'] } });
      await tick();
    });
    const [r] = await Promise.all([cli(['apply', '-f', specFile(7), '--wait', '--timeout', '20s']), moving]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^lvsfleet apply: (dr2: ipvs: refused|revision 2 was rolled back: dr2 failed to apply revision 2: ipvs: refused)\n$/);
    const st = await cli(['rollout', 'status', SITE]);
    expect(st.out).toContain('revision 2 (from 1) by test-admin: rolled_back');
    expect(st.out).toContain('  stage 2 masters: dr1 — held');
    expect(st.out).toContain('  rollback: revision 3 restores revision 1 on dr2');
  });

  it('times out naming the nodes it still waits for; the rollout goes on', async () => {
    await live();
    const r = await cli(['apply', '-f', specFile(7), '--wait', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'lvsfleet apply: timed out waiting for revision 2 on dr2 (published), dr1 (held); the rollout goes on: lvsfleet rollout status bj-dc1\n',
    );
  });

  it('refuses --timeout without --wait and a timeout that is not a duration (exit 2)', async () => {
    expect(await cli(['apply', '-f', specFile(2), '--timeout', '1s'])).toMatchObject({ code: 2, err: 'lvsfleet apply: --timeout goes with --wait\n' });
    expect((await cli(['apply', '-f', specFile(2), '--wait', '--timeout', 'soon'])).code).toBe(2);
  });
});

describe('lvsfleet rollout', () => {
  it('status, pause, resume and abort a rollout; a command without one exits 1 naming why', async () => {
    await live();
    expect((await cli(['apply', '-f', specFile(7)])).code).toBe(0);
    expect((await cli(['rollout', 'status', SITE])).out).toBe(
      'revision 2 (from 1) by test-admin: running at stage 1/2, bake 1s\n  stage 1 backups: dr2 — published\n  stage 2 masters: dr1 — held\n',
    );
    expect((await cli(['rollout', 'pause', SITE])).out).toMatch(/^revision 2 \(from 1\) by test-admin: paused at stage 1\/2/);
    expect((await cli(['rollout', 'resume', SITE])).out).toMatch(/: running at stage 1\/2/);
    const aborted = await cli(['rollout', 'abort', SITE]);
    expect(aborted.code).toBe(0);
    expect(aborted.out).toContain('  reason: aborted by test-admin\n  rollback: revision 3 restores revision 1 on dr2\n');
    const again = await cli(['rollout', 'abort', SITE]);
    expect(again).toMatchObject({ code: 1, err: 'lvsfleet rollout: site "bj-dc1" has no rollout in progress (rollout_not_active)\n' });
    const st = await cli(['rollout', 'status', SITE, '-o', 'json']);
    expect(JSON.parse(st.out)).toMatchObject({ current: null, history: [{ revision: 2, state: 'aborted', rollbackRevision: 3 }] });
    expect((await cli(['rollout', 'status', SITE])).out).toMatch(
      /^bj-dc1: no rollout in progress; the last one:\nrevision 2 \(from 1\) by test-admin: aborted, bake 1s\n/,
    );
    // A second rollout (revision 4; 3 was the rollback): the newest with its stages, the one before as a line of the history.
    await t.db.db.update(outbox).set({ status: 'published' });
    await report({ dr2: 3 });
    expect((await cli(['apply', '-f', specFile(8)])).code).toBe(0);
    const two = (await cli(['rollout', 'status', SITE])).out;
    expect(two).toMatch(/^revision 4 \(from 3\) by test-admin: running at stage 1\/2, bake 1s\n {2}stage 1 backups: dr2 — published\n/);
    expect(two).toMatch(/\nhistory:\nREVISION +STATE +AUTHOR +STARTED +ENDED +REASON\n2 +aborted +test-admin +\S+ +\S+ +aborted by test-admin\n$/);
    expect(JSON.parse((await cli(['rollout', 'status', SITE, '-o', 'json'])).out).history.map((r: { revision: number }) => r.revision)).toEqual([4, 2]);
  });

  it('exits 2 on a bad subcommand or a missing site', async () => {
    expect((await cli(['rollout', 'restart', SITE])).code).toBe(2);
    expect(await cli(['rollout', 'status'])).toMatchObject({ code: 2, err: 'lvsfleet rollout: rollout status needs a site\n' });
  });
});
