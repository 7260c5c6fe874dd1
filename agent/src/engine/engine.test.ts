import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeEvent } from '#shared/wire/events.ts';
import { renderSave } from '#shared/ipvs/codec.ts';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { NOT_ROOT, scriptFixture } from '../scripts/scripts.test-support.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { NODES, configFor, eventsOf, manualChecker, tempDir } from './engine.test-support.ts';

const web = (
  extra: Record<string, unknown> = {},
  rs: Record<string, unknown>[] = [
    { node: 'rs1', weight: 2 },
    { node: 'rs2', weight: 1 },
  ],
) => ({
  name: 'web',
  vip: '10.99.0.50',
  port: 80,
  scheduler: 'wrr',
  forwarding: 'dr',
  healthCheck: { type: 'tcp', interval: '1s' },
  realServers: rs,
  ...extra,
});
const director = (services: unknown[], extra: Record<string, unknown> = {}) => configFor({ nodes: NODES, services, ...extra }, 'd1');

describe('engine on a director (in-memory kernel)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let host: MemoryHost;
  let events: NodeEvent[];
  let engines: Engine[];
  const make = (o: Partial<EngineOptions> = {}) => {
    const e = new Engine({ nodeId: 't.d1', dataplane: host, stateDir: dir, log: () => {}, emit: (ev) => events.push(ev), verifyIntervalMs: 60_000, ...o });
    engines.push(e);
    return e;
  };
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    host = new MemoryHost();
    events = [];
    engines = [];
  });
  afterEach(async () => {
    for (const e of engines) await e.stop();
    await cleanup();
  });

  it('programs services and real servers in one batch and reports apply.succeeded', async () => {
    const e = make();
    const r = await e.apply(director([web()]), 3);
    expect(r).toEqual({ ok: true, errors: [] });
    expect(host.ipvs.batches).toHaveLength(1);
    expect(host.ipvs.save()).toBe('-A -t 10.99.0.50:80 -s wrr\n-a -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 2\n-a -t 10.99.0.50:80 -r 10.99.0.22:80 -g -w 1\n');
    expect(host.sysctls.get('net.ipv4.conf.all.send_redirects')).toBe('0');
    expect(eventsOf(events, 'apply.succeeded').map((x) => x.data)).toEqual([{ revision: 3 }]);
    expect(e.status()).toMatchObject({ appliedRevision: 3, pendingRevision: null, ipvs: { ok: true } });
  });

  it('health: down removes at once, inhibitOnFailure keeps weight 0, dynamic weight applies, events raised', async () => {
    const chk = manualChecker();
    const e = make({ startHealthChecker: chk.start });
    await e.apply(
      director([
        web({}, [
          { node: 'rs1', weight: 2 },
          { node: 'rs2', weight: 1, inhibitOnFailure: true },
        ]),
      ]),
      1,
    );
    chk.set('web', '10.99.0.21', 80, false);
    await e.idle();
    expect(host.ipvs.save()).not.toContain('10.99.0.21');
    chk.set('web', '10.99.0.22', 80, true, 7);
    await e.idle();
    expect(host.ipvs.save()).toContain('-r 10.99.0.22:80 -g -w 7');
    chk.set('web', '10.99.0.22', 80, false);
    chk.set('web', '10.99.0.21', 80, true);
    await e.idle();
    expect(host.ipvs.save()).toContain('-r 10.99.0.22:80 -g -w 0');
    expect(host.ipvs.save()).toContain('-r 10.99.0.21:80 -g -w 2');
    expect(eventsOf(events, 'realserver.down').map((x) => (x.data as { address: string }).address)).toEqual(['10.99.0.21', '10.99.0.22']);
    expect(e.status().services?.[0].realServers.find((r) => r.address === '10.99.0.22')).toMatchObject({ healthy: false, weight: 0 });
    // The weight change of rs2 (up → up, misc_dynamic) is not an up event; rs1's return is.
    expect(eventsOf(events, 'realserver.up').map((x) => (x.data as { address: string }).address)).toEqual(['10.99.0.21']);
  });

  it('sorry server comes in when no real server is healthy and leaves when one returns; quorum events', async () => {
    const chk = manualChecker();
    const e = make({ startHealthChecker: chk.start });
    await e.apply(director([web({ sorryServer: { address: '10.99.0.99', port: 80 } })]), 1);
    expect(host.ipvs.save()).not.toContain('10.99.0.99');
    chk.set('web', '10.99.0.21', 80, false);
    chk.set('web', '10.99.0.22', 80, false);
    await e.idle();
    expect(host.ipvs.save()).toBe('-A -t 10.99.0.50:80 -s wrr\n-a -t 10.99.0.50:80 -r 10.99.0.99:80 -g -w 1\n');
    expect(eventsOf(events, 'service.quorum_lost').map((x) => x.data)).toEqual([{ service: 'web', weight: 0, quorum: 1 }]);
    chk.set('web', '10.99.0.22', 80, true);
    await e.idle();
    expect(host.ipvs.save()).toBe('-A -t 10.99.0.50:80 -s wrr\n-a -t 10.99.0.50:80 -r 10.99.0.22:80 -g -w 1\n');
    expect(eventsOf(events, 'service.quorum_restored')).toHaveLength(1);
  });

  it('quorum with hysteresis: lost below quorum-h, restored only at quorum+h; servers leave while lost', async () => {
    const chk = manualChecker();
    const e = make({ startHealthChecker: chk.start });
    const rs = [1, 2, 3, 4].map((i) => ({ address: `10.99.1.${i}`, weight: 1 }));
    await e.apply(director([web({ quorum: 3, hysteresis: 1 }, rs)]), 1);
    chk.set('web', '10.99.1.1', 80, false); // 3 alive: ≥ 3-1, still up
    await e.idle();
    expect(eventsOf(events, 'service.quorum_lost')).toHaveLength(0);
    chk.set('web', '10.99.1.2', 80, false); // 2 alive: still ≥ 2
    chk.set('web', '10.99.1.3', 80, false); // 1 alive: < 2 → lost
    await e.idle();
    expect(eventsOf(events, 'service.quorum_lost')).toHaveLength(1);
    expect(host.ipvs.save()).toBe('-A -t 10.99.0.50:80 -s wrr\n');
    chk.set('web', '10.99.1.1', 80, true);
    chk.set('web', '10.99.1.2', 80, true); // 3 alive: < 3+1, still lost
    await e.idle();
    expect(eventsOf(events, 'service.quorum_restored')).toHaveLength(0);
    chk.set('web', '10.99.1.3', 80, true); // 4 alive: restored
    await e.idle();
    expect(eventsOf(events, 'service.quorum_restored')).toHaveLength(1);
    expect(host.ipvs.snapshot()[0].dests).toHaveLength(4);
  });

  it('drains a real server removed from the config before deleting it', async () => {
    let now = 0;
    const e = make({ now: () => now, drainTimeoutMs: 30_000 });
    await e.apply(director([web()]), 1);
    host.ipvs.activeConns.set('tcp:10.99.0.50:80|10.99.0.22:80', 5);
    await e.apply(director([web({}, [{ node: 'rs1', weight: 2 }])]), 2);
    expect(host.ipvs.save()).toContain('-r 10.99.0.22:80 -g -w 0');
    now = 10_000;
    await e.verify();
    expect(host.ipvs.save()).toContain('-r 10.99.0.22:80 -g -w 0');
    host.ipvs.activeConns.set('tcp:10.99.0.50:80|10.99.0.22:80', 0);
    await e.verify();
    expect(host.ipvs.save()).not.toContain('10.99.0.22');
  });

  it('a drain ends at its timeout even with connections left', async () => {
    let now = 0;
    const e = make({ now: () => now, drainTimeoutMs: 30_000 });
    await e.apply(director([web()]), 1);
    host.ipvs.activeConns.set('tcp:10.99.0.50:80|10.99.0.22:80', 5);
    await e.apply(director([web({}, [{ node: 'rs1', weight: 2 }])]), 2);
    now = 30_001;
    await e.verify();
    expect(host.ipvs.save()).not.toContain('10.99.0.22');
  });

  it('a restart adopts by diff: no operation, foreign services untouched, owned ones removed later', async () => {
    host.ipvs.restore('-A -t 10.99.0.77:25 -s rr\n-a -t 10.99.0.77:25 -r 10.99.5.5:25 -g -w 1\n');
    const first = make();
    await first.apply(director([web(), web({ name: 'api', port: 8080 })]), 1);
    await first.stop();
    const batches = host.ipvs.batches.length;
    const second = make();
    await second.apply(director([web(), web({ name: 'api', port: 8080 })]), 1);
    expect(host.ipvs.batches.length).toBe(batches);
    await second.apply(director([web()]), 2);
    expect(host.ipvs.save()).toContain('-A -t 10.99.0.77:25 -s rr');
    expect(host.ipvs.save()).not.toContain('10.99.0.50:8080');
  });

  it('refuses to delete most services without allowMassDelete', async () => {
    const three = ['a', 'b', 'c'].map((n, i) => web({ name: n, port: 80 + i }));
    const e = make();
    await e.apply(director(three), 1);
    const r = await e.apply(director([three[0]]), 2);
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(/refusing to remove 2 of 3 services/);
    expect(host.ipvs.snapshot()).toHaveLength(3);
    expect(e.status().pendingRevision).toBe(2);
    const ok = await e.apply(director([three[0]], { allowMassDelete: true }), 3);
    expect(ok.ok).toBe(true);
    expect(host.ipvs.snapshot()).toHaveLength(1);
  });

  it('refuses to take most real servers out of the config without allowMassDelete; failed checks do not count', async () => {
    const chk = manualChecker();
    const four = [1, 2, 3, 4].map((i) => ({ address: `10.99.1.${i}`, weight: 1 }));
    const e = make({ startHealthChecker: chk.start });
    await e.apply(director([web({}, four)]), 1);
    for (const rs of four.slice(0, 3)) chk.set('web', rs.address, 80, false);
    await e.idle();
    expect(host.ipvs.snapshot()[0].dests).toHaveLength(1); // health removals are not a mass delete
    for (const rs of four.slice(0, 3)) chk.set('web', rs.address, 80, true);
    await e.idle();
    const r = await e.apply(director([web({}, four.slice(0, 1))]), 2);
    expect(r.errors[0]).toMatch(/refusing to remove 3 of 4 real servers/);
    expect(host.ipvs.snapshot()[0].dests).toHaveLength(4);
    expect((await e.apply(director([web({}, four.slice(0, 3))]), 3)).ok).toBe(true);
  });

  it('without ip_vs: IPVS reported failed, VRRP and checks still started, never dead', async () => {
    host = new MemoryHost({ ipvs: false });
    const chk = manualChecker();
    let vrrpStarted = false;
    const e = make({
      startHealthChecker: chk.start,
      startVrrp: async () => {
        vrrpStarted = true;
        return {
          update: async () => {},
          status: () => [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }],
          stop: async () => {},
          bfd: () => {},
        };
      },
    });
    const r = await e.apply(director([web()]), 1);
    expect(r.ok).toBe(false);
    expect(vrrpStarted).toBe(true);
    const s = e.status();
    expect(s.ipvs).toEqual({ ok: false, error: "Can't initialize ipvs: Protocol not available" });
    expect(s.vrrp?.[0].state).toBe('MASTER');
    expect(s.pendingRevision).toBe(1);
    expect(eventsOf(events, 'apply.failed')).toHaveLength(1);
    chk.set('web', '10.99.0.21', 80, false);
    await e.idle();
    expect(eventsOf(events, 'realserver.down')).toHaveLength(1);
  });

  it('a VRRP failure stays reported through health-driven reconciles and verification; the next apply retries it', async () => {
    const chk = manualChecker();
    let vrrpFails = true;
    const e = make({
      startHealthChecker: chk.start,
      startVrrp: async () => {
        if (vrrpFails) throw new Error('no VRRP socket');
        return { update: async () => {}, status: () => [], stop: async () => {}, bfd: () => {} };
      },
    });
    expect(await e.apply(director([web()]), 1)).toEqual({ ok: false, errors: ['vrrp: no VRRP socket'] });
    chk.set('web', '10.99.0.21', 80, false);
    await e.idle();
    expect(host.ipvs.save()).not.toContain('10.99.0.21');
    expect(e.status().errors).toEqual(['vrrp: no VRRP socket']);
    expect((await e.verify()).errors).toEqual(['vrrp: no VRRP socket']);
    expect(eventsOf(events, 'apply.failed')).toHaveLength(1); // the same failure is reported once
    vrrpFails = false;
    expect(await e.apply(director([web()]), 2)).toEqual({ ok: true, errors: [] });
    expect(e.status()).toMatchObject({ appliedRevision: 2, errors: [] });
  });

  it('republishes an unchanged status once the heartbeat is due, so a quiet healthy node does not look stale', async () => {
    let t = 0;
    const sent: string[] = [];
    const e = make({ now: () => t, statusHeartbeatMs: 15_000, onStatus: (s) => sent.push(s.at ?? '') });
    await e.apply(director([web()]), 1);
    await e.idle(); // the status goes out in the loop's next turn
    const afterApply = sent.length;
    expect(afterApply).toBeGreaterThan(0);
    t = 14_000;
    await e.publishStatus();
    expect(sent).toHaveLength(afterApply); // nothing changed, heartbeat not due
    t = 15_000;
    await e.publishStatus();
    expect(sent).toHaveLength(afterApply + 1);
    await e.publishStatus();
    expect(sent).toHaveLength(afterApply + 1); // the next one is due 15 s later again
  });

  it('publishes the status in the loop turn after the apply, once for the calls made until then', async () => {
    let t = 0;
    const sent: (number | null | undefined)[] = [];
    let timerRan = false;
    const e = make({ now: () => t, statusHeartbeatMs: 15_000, onStatus: (s) => sent.push(timerRan ? s.appliedRevision : -1) });
    // A timer due now, set before the apply: the status must not be built in the same run of the
    // loop as the apply's plan, so this timer (an advert, a BFD packet) runs first.
    setTimeout(() => (timerRan = true), 0);
    expect(await e.apply(director([web()]), 1)).toEqual({ ok: true, errors: [] });
    expect(sent).toEqual([]);
    await e.idle();
    expect(sent).toEqual([1]);
    t = 15_000; // the heartbeat is due: a publication sends even an unchanged status
    const calls = [e.publishStatus(), e.publishStatus(), e.publishStatus()];
    expect(new Set(calls).size).toBe(1);
    await Promise.all(calls);
    expect(sent).toEqual([1, 1]);
  });

  it("holds a changed status back for the last one's size at statusCharsPerSecond, then sends the newest; stop() drops a held one", async () => {
    let t = 0;
    const sent: (number | null | undefined)[] = [];
    const sizes: number[] = [];
    const e = make({
      now: () => t,
      statusCharsPerSecond: 10_000,
      onStatus: (s) => {
        sent.push(s.appliedRevision);
        sizes.push(JSON.stringify(s).length);
      },
    });
    await e.apply(director([web()]), 1);
    await e.idle();
    expect(sent).toEqual([1]);
    // The clock stands still: the next changed status may go out only after the first's size at
    // 10,000 characters a second (tens of milliseconds of this clock).
    expect(sizes[0]).toBeGreaterThan(100);
    await e.apply(director([web()]), 2);
    await e.apply(director([web()]), 3);
    await new Promise((r) => setTimeout(r, 5)); // the publications' turns have passed
    expect(sent).toEqual([1]);
    t = 60_000;
    await e.idle(); // the held status goes out when its time comes, built then: revision 3's
    expect(sent).toEqual([1, 3]);

    const slow = make({ now: () => t, statusCharsPerSecond: 1, onStatus: (s) => sent.push(s.appliedRevision) });
    await slow.apply(director([web()]), 4);
    await slow.idle();
    await slow.apply(director([web()]), 5); // held for its predecessor's size at 1 character a second
    await new Promise((r) => setTimeout(r, 5));
    await slow.stop(); // at once, not after the hold
    expect(sent).toEqual([1, 3, 4]);
  });

  it('idle() waits for work queued while it waits', async () => {
    const chk = manualChecker();
    const e = make({ startHealthChecker: chk.start });
    const applied = e.apply(director([web()]), 1);
    const idle = e.idle();
    void applied.then(() => chk.set('web', '10.99.0.22', 80, false)); // queued behind the apply
    await idle;
    expect(host.ipvs.save()).not.toContain('10.99.0.22');
  });

  it('a VRRP-only director on a kernel without ip_vs is not degraded', async () => {
    host = new MemoryHost({ ipvs: false });
    const e = make();
    expect(await e.apply(director([]), 1)).toEqual({ ok: true, errors: [] });
    expect(e.status().ipvs).toBeUndefined();
    expect(e.status().appliedRevision).toBe(1);
  });

  it('keeps the IPVS table and sysctls on stop (hitless restart)', async () => {
    const e = make();
    await e.apply(director([web()]), 1);
    const before = renderSave(host.ipvs.snapshot());
    await e.stop();
    expect(renderSave(host.ipvs.snapshot())).toBe(before);
    expect(host.sysctls.get('net.ipv4.conf.all.send_redirects')).toBe('0');
  });
});

describe.skipIf(NOT_ROOT)(`engine notify hooks (${NOT_ROOT ?? 'root'})`, () => {
  it('runs notify_down/notify_up of a real server and quorum_down/quorum_up of its service', async () => {
    const { dir, cleanup } = await tempDir();
    const scripts = await scriptFixture();
    const host = new MemoryHost();
    const chk = manualChecker();
    const log = join(scripts.out, 'hooks.log');
    const hook = await scripts.write('hook.sh', `echo "$@" $(id -un) >> ${log}`);
    const e = new Engine({
      nodeId: 't.d1',
      dataplane: host,
      stateDir: dir,
      log: () => {},
      startHealthChecker: chk.start,
      verifyIntervalMs: 60_000,
      scripts: scripts.launcher(),
    });
    try {
      await e.apply(
        director([web({ quorumDown: `${hook} qdown`, quorumUp: `${hook} qup` }, [{ node: 'rs1', notifyDown: `${hook} down`, notifyUp: `${hook} up` }])]),
        1,
      );
      chk.set('web', '10.99.0.21', 80, false);
      await e.idle();
      chk.set('web', '10.99.0.21', 80, true);
      // The hooks are child processes the engine does not wait for (keepalived runs them detached too).
      const lines = async () => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').sort();
      await waitFor(async () => (await lines()).length >= 4, { timeoutMs: 10_000, what: 'four hook lines' });
      expect(await lines()).toEqual(['down nobody', 'qdown nobody', 'qup nobody', 'up nobody']);
    } finally {
      await e.stop();
      await cleanup();
      await scripts.cleanup();
    }
  });

  it('runs notify_down and quorum_down of a removed omega service', async () => {
    const { dir, cleanup } = await tempDir();
    const scripts = await scriptFixture();
    const log = join(scripts.out, 'omega.log');
    const hook = await scripts.write('hook.sh', `echo "$@" >> ${log}`);
    const e = new Engine({ nodeId: 't.d1', dataplane: new MemoryHost(), stateDir: dir, log: () => {}, verifyIntervalMs: 60_000, scripts: scripts.launcher() });
    try {
      await e.apply(
        director([web({ omega: true, quorumDown: `${hook} qdown` }, [{ node: 'rs1', notifyDown: `${hook} down` }]), web({ name: 'api', port: 81 })]),
        1,
      );
      await e.apply(director([web({ name: 'api', port: 81 })]), 2);
      const lines = async () => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').sort();
      await waitFor(async () => (await lines()).length >= 2, { timeoutMs: 10_000, what: 'two omega hook lines' });
      expect(await lines()).toEqual(['down', 'qdown']);
    } finally {
      await e.stop();
      await cleanup();
      await scripts.cleanup();
    }
  });
});

describe('engine periodic verification', () => {
  it('repairs IPVS drift (a real server deleted by hand) on the next pass', async () => {
    const { dir, cleanup } = await tempDir();
    const host = new MemoryHost();
    const e = new Engine({ nodeId: 't.d1', dataplane: host, stateDir: dir, log: () => {}, verifyIntervalMs: 60_000 });
    try {
      await e.apply(director([web()]), 1);
      host.ipvs.restore('-d -t 10.99.0.50:80 -r 10.99.0.21:80\n-e -t 10.99.0.50:80 -r 10.99.0.22:80 -g -w 9\n');
      await e.verify();
      expect(host.ipvs.save()).toBe('-A -t 10.99.0.50:80 -s wrr\n-a -t 10.99.0.50:80 -r 10.99.0.22:80 -g -w 1\n-a -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 2\n');
    } finally {
      await e.stop();
      await cleanup();
    }
  });
});
