import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestApp } from '../../api/test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';
import { nodeStatus } from '../../db/schema.ts';
import { main } from '../main.ts';
import { memoryIO } from '../test-io.test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-cli-ovr-'));
const t = useTestApp({ listen: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], as: 'admin' | 'operator' | 'viewer' = 'operator') {
  const io = memoryIO({ LVSFLEET_URL: t.url, LVSFLEET_TOKEN: t.tokens[as] }, '', dir);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}
const apply = () => t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML });
/** What a director's agent would report (only the parts --wait reads). */
const report = (node: string, overrides: unknown[]) => ({
  nodeId: `bj-dc1.${node}`,
  online: true,
  appliedRevision: 1,
  status: { appliedRevision: 1, overrides },
});

describe('lvsfleet drain|undrain|maintenance|failover|disable|overrides|cancel', () => {
  it('drain a real server, list, undrain; a director name drains the director', async () => {
    await apply();
    const d = await cli(['drain', 'bj-dc1', 'rs1', '--for', '30m', '--reason', 'kernel update']);
    expect(d).toMatchObject({ code: 0, err: '' });
    expect(d.out).toMatch(/^ovr_[0-9a-f]{16}: rs1 drained for kernel update until \d\d:\d\d UTC by test-operator\nsent to bj-dc1\.dr1, bj-dc1\.dr2\n$/);
    const l = await cli(['overrides', 'bj-dc1']);
    expect(l.out).toMatch(/^ID +KIND +UNTIL +STATE +WHAT\novr_\S+ +drain-realserver +\S+ +active +rs1 drained for kernel update/);
    expect(JSON.parse((await cli(['overrides', 'bj-dc1', '-o', 'json'])).out)).toHaveLength(1);
    const dd = await cli(['drain', 'bj-dc1', 'dr1', '--for', '1h', '--reason', 'BIOS']);
    expect(dd.out).toContain('director dr1 drained for BIOS');
    expect((await cli(['undrain', 'bj-dc1', 'rs1'])).out).toMatch(/^ovr_\S+ cancelled: rs1 drained/);
    expect((await cli(['undrain', 'bj-dc1', 'rs1'])).code).toBe(1);
    expect((await cli(['undrain', 'bj-dc1', 'dr1'])).code).toBe(0);
    expect((await cli(['overrides', 'bj-dc1'])).out).toBe('no active overrides in site bj-dc1\n');
    expect((await cli(['overrides', 'bj-dc1', '--all'])).out).toMatch(/cancelled/);
  });

  it('flag errors name the flag and exit 2; API refusals exit 1 (unsafe) or 2 (invalid) with the message', async () => {
    await apply();
    const cases: [string[], RegExp][] = [
      [['drain', 'bj-dc1', 'rs1', '--reason', 'x'], /--for is required/],
      [['drain', 'bj-dc1', 'rs1', '--for', '30', '--reason', 'x'], /--for: "30" is not a duration/],
      [['drain', 'bj-dc1', 'rs1', '--for', '30m'], /--reason is required/],
      [['drain', 'bj-dc1', 'rs1', '--for', '30m', '--reason', 'x', '--force'], /--force needs --force-reason/],
      [['drain', 'bj-dc1'], /missing REALSERVER/],
      [['failover', 'bj-dc1', 'VI_1', '--for', '10m', '--reason', 'x'], /--to is required/],
      [['drain', 'bj-dc1', 'rs1', '--for', '30m', '--reason', 'x', '--port', 'http'], /--port: "http" is not a port/],
      [['drain', 'bj-dc1', 'rs1', '--for', '30m', '--reason', 'x', '--drain-timeout', '10'], /--drain-timeout: "10" is not a duration/],
      [['drain', 'bj-dc1', 'dr1', '--for', '30m', '--reason', 'x', '--drain-timeout', '10m'], /dr1 is a director: .*--drain-timeout apply to real servers/],
      [['disable', 'bj-dc1', 'web', '--for', '30m', '--reason', 'x', '--drain-timeout', 'soon'], /--drain-timeout: "soon" is not a duration/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect([r.code, r.err], args.join(' ')).toEqual([2, expect.stringMatching(re)]);
    }
    const unknown = await cli(['maintenance', 'bj-dc1', 'rs1', '--for', '1h', '--reason', 'x']);
    expect(unknown).toMatchObject({ code: 2, err: expect.stringContaining('node: "rs1" is a realserver, not a director (invalid_override)') });
    expect((await cli(['maintenance', 'bj-dc1', 'dr1', '--for', '1h', '--reason', 'x'])).code).toBe(0);
    const unsafe = await cli(['maintenance', 'bj-dc1', 'dr2', '--for', '1h', '--reason', 'x']);
    expect(unsafe).toMatchObject({ code: 1, err: expect.stringContaining('VI_1 would have no director able to be MASTER') });
    const forced = await cli(['maintenance', 'bj-dc1', 'dr2', '--for', '1h', '--reason', 'x', '--force', '--force-reason', 'traffic moved away']);
    expect(forced.out).toContain('(forced: traffic moved away)');
    expect((await cli(['drain', 'bj-dc1', 'rs1', '--for', '30m', '--reason', 'x'], 'viewer')).code).toBe(1);
  });

  it('--drain-timeout goes with the drain to the agents (drainTimeoutMs)', async () => {
    await apply();
    const d = await cli(['drain', 'bj-dc1', 'rs1', '--for', '2h', '--drain-timeout', '20m', '--reason', 'websockets', '-o', 'json']);
    expect(d.code, d.err).toBe(0);
    expect(JSON.parse(d.out).override).toMatchObject({ kind: 'drain-realserver', node: 'rs1', drainTimeoutMs: 20 * 60_000 });
  });

  it('--wait follows the nodes until each reports the override applied (a drain: drained), and times out otherwise', async () => {
    await apply();
    const made = await cli(['failover', 'bj-dc1', 'VI_1', '--to', 'dr2', '--for', '10m', '--reason', 'test', '-o', 'json']);
    const id = JSON.parse(made.out).override.id as string;
    await t.db.db.insert(nodeStatus).values([report('dr1', [{ id, kind: 'failover', until: new Date().toISOString(), state: 'applied' }]), report('dr2', [])]);
    const timedOut = await cli(['drain', 'bj-dc1', 'rs2', '--for', '30m', '--reason', 'x', '--wait', '--timeout', '2s']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.out).toMatch(/bj-dc1\.dr1: not applied yet/);
    expect(timedOut.err).toMatch(/timed out after 2 s waiting for bj-dc1\.dr1, bj-dc1\.dr2/);

    const waiting = cli(['drain', 'bj-dc1', 'rs1', '--for', '30m', '--reason', 'x', '--wait', '--timeout', '30s']);
    await new Promise((r) => setTimeout(r, 1500));
    const [drain] = (await (await t.req('/v1/sites/bj-dc1/overrides')).json()).overrides.filter(
      (o: { override: { address: string } }) => o.override.address === '192.168.1.132',
    );
    const ovr = drain.override.id;
    await t.db.db.delete(nodeStatus);
    await t.db.db
      .insert(nodeStatus)
      .values([
        report('dr1', [{ id: ovr, kind: 'drain-realserver', until: drain.override.until, state: 'drained', activeConnections: 0 }]),
        report('dr2', [{ id: ovr, kind: 'drain-realserver', until: drain.override.until, state: 'drained', activeConnections: 0 }]),
      ]);
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/bj-dc1\.dr1: drained, 0 active connection\(s\)/);
  });
});
