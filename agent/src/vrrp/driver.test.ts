import { afterEach, describe, expect, it } from 'vitest';
import { compileNode } from '#shared/compiler/compile.ts';
import { layer } from '#shared/overrides/layer.ts';
import { override } from '#shared/overrides/overrides.test-support.ts';
import { validateSite } from '#shared/site/validate.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import { createDryRunVrrpHost } from '../dataplane/vrrp-host-dry-run.ts';
import { startVrrp, type VrrpRunner } from './driver.ts';
import { MemoryLan } from './sim/memory-lan.ts';

function site(extra: Record<string, unknown> = {}, vrrp: Record<string, unknown> = {}) {
  const r = validateSite({
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: 'lab' },
    spec: {
      nodes: [
        { name: 'd1', role: 'director', address: '10.99.0.11', interface: 'eth0' },
        { name: 'd2', role: 'director', address: '10.99.0.12', interface: 'eth0' },
      ],
      vrrp: [
        {
          name: 'VI_1',
          vrid: 51,
          version: 3,
          advertInterval: '50ms',
          vips: ['10.99.0.50/32'],
          members: [
            { node: 'd1', priority: 150 },
            { node: 'd2', priority: 100 },
          ],
          garp: { masterDelay: '0s' },
          ...vrrp,
        },
      ],
      ...extra,
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.site;
}

const runners: VrrpRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

async function pair(s: ReturnType<typeof site>) {
  const lan = new MemoryLan();
  const events: NodeEvent[] = [];
  const logs: string[] = [];
  const start = async (name: 'd1' | 'd2', addr: string) => {
    const cfg = compileNode(s, name);
    const r = await startVrrp({
      nodeId: `lab.${name}`,
      node: cfg.node,
      config: cfg.vrrp,
      host: lan.host(addr),
      emit: (e) => events.push(e),
      log: (l) => logs.push(`${name} ${l}`),
    });
    runners.push(r);
    return r;
  };
  return { lan, events, logs, start };
}

describe('startVrrp on an in-memory LAN', () => {
  it('with no instances opens nothing', async () => {
    const lines: string[] = [];
    const r = await startVrrp({
      nodeId: 'x.y',
      node: { name: 'y', role: 'director', address: '10.0.0.1', interface: 'eth0' },
      config: { instances: [], scripts: [], syncGroups: [], connectionSync: null },
      host: createDryRunVrrpHost((l) => lines.push(l)),
      emit: () => {},
      log: () => {},
    });
    expect(r.status()).toEqual([]);
    await r.stop();
    expect(lines).toEqual([]);
  });

  it('elects the higher priority, fails over on graceful stop with priority 0, logs the transition', async () => {
    const { lan, events, logs, start } = await pair(site());
    const d2 = await start('d2', '10.99.0.12');
    const d1 = await start('d1', '10.99.0.11');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
    expect(lan.records.get('10.99.0.11')!.vips).toEqual(new Set(['10.99.0.50/32@eth0']));
    await d1.stop();
    runners.splice(runners.indexOf(d1), 1);
    expect(lan.records.get('10.99.0.11')!.vips.size).toBe(0);
    await waitFor(() => d2.status()[0].state === 'MASTER', { what: 'd2 MASTER' });
    expect(logs.some((l) => /^d2 vrrp VI_1 BACKUP→MASTER \(master released \(priority 0\)/.test(l))).toBe(true);
    expect(events.some((e) => e.type === 'vrrp.transition' && e.nodeId === 'lab.d1' && e.data.to === 'STOP')).toBe(true);
    expect(lan.records.get('10.99.0.12')!.vips.size).toBe(1);
  });

  it('a VRRPv2 instance without VIPs (keepalived allows it) elects a master on adverts carrying no address', async () => {
    const s = site({}, { version: 2, advertInterval: '1s', vips: [], notify: { master: '/usr/local/bin/assign-eni' } });
    s.spec.vrrp![0].members[0].initialState = 'MASTER';
    const { lan, start } = await pair(s);
    const d2 = await start('d2', '10.99.0.12');
    const d1 = await start('d1', '10.99.0.11');
    await waitFor(() => d1.status()[0].state === 'MASTER', { what: 'd1 MASTER', timeoutMs: 5000 });
    await waitFor(() => d2.instances()[0].counters.advert_rcvd >= 1, { what: 'd2 receiving adverts', timeoutMs: 3000 });
    expect(d2.status()[0].state).toBe('BACKUP');
    expect(d2.instances()[0].counters.addr_list_err).toBe(0);
    expect(d2.drops().length).toBe(0); // a zero-address advert is not malformed
    expect(lan.records.get('10.99.0.11')!.notifications).toContainEqual(['/usr/local/bin/assign-eni']);
    expect(lan.records.get('10.99.0.11')!.vips.size).toBe(0);
  });

  it('a failing track script with negative weight moves the master; recovery moves it back (preempt)', async () => {
    const s = site(
      { vrrpScripts: [{ name: 'chk', script: 'check-nginx', interval: '20ms', weight: -60, fall: 2, rise: 2 }] },
      { trackScripts: [{ script: 'chk' }] },
    );
    const { lan, start } = await pair(s);
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
    lan.records.get('10.99.0.11')!.scripts.set('check-nginx', false);
    await waitFor(() => d2.status()[0].state === 'MASTER' && d1.status()[0].state === 'BACKUP', { what: 'd2 MASTER and d1 BACKUP' });
    expect(d1.status()[0].effectivePriority).toBe(90);
    lan.records.get('10.99.0.11')!.scripts.set('check-nginx', true);
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
  });

  it('link down → FAULT (VIPs gone, priority-0 lets the backup in), link up → BACKUP; notify gets keepalived arguments', async () => {
    const { lan, start } = await pair(site({}, { notify: { any: '/usr/local/bin/vrrp-notify' } }));
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    await waitFor(() => d1.status()[0].state === 'MASTER', { what: 'd1 MASTER' });
    lan.setLink('10.99.0.11', 'eth0', false);
    await waitFor(() => d1.status()[0].state === 'FAULT' && d2.status()[0].state === 'MASTER', { what: 'd1 FAULT and d2 MASTER' });
    expect(lan.records.get('10.99.0.11')!.vips.size).toBe(0);
    expect(lan.records.get('10.99.0.11')!.notifications).toContainEqual(['/usr/local/bin/vrrp-notify', 'INSTANCE', 'VI_1', 'FAULT', '150']);
    lan.setLink('10.99.0.11', 'eth0', true);
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
  });

  it('split (no adverts either way) makes two masters; healing leaves the higher one', async () => {
    const { lan, start } = await pair(site());
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
    lan.records.get('10.99.0.12')!.connected = false;
    await waitFor(() => d2.status()[0].state === 'MASTER', { what: 'd2 MASTER' });
    expect(d1.status()[0].state).toBe('MASTER');
    lan.records.get('10.99.0.12')!.connected = true;
    await waitFor(() => d2.status()[0].state === 'BACKUP', { what: 'd2 BACKUP' });
    expect(d1.status()[0].state).toBe('MASTER');
  });

  it('sync group: one member faulting moves the other; connection sync follows the state', async () => {
    const s = validateSite({
      apiVersion: 'lvsfleet/v1',
      kind: 'Site',
      metadata: { name: 'lab' },
      spec: {
        nodes: [{ name: 'd1', role: 'director', address: '10.99.0.11', interface: 'eth0' }],
        vrrp: [
          {
            name: 'VI_1',
            vrid: 51,
            version: 3,
            advertInterval: '50ms',
            vips: ['10.99.0.50/32'],
            members: [{ node: 'd1', priority: 150 }],
            trackInterfaces: [{ interface: 'eth1' }],
          },
          { name: 'VI_2', vrid: 52, version: 3, advertInterval: '50ms', vips: ['10.99.0.51/32'], members: [{ node: 'd1', priority: 150 }] },
        ],
        syncGroups: [{ name: 'G1', instances: ['VI_1', 'VI_2'] }],
        connectionSync: { instance: 'VI_2', syncId: 7, group: 'ff02::81' },
      },
    });
    if (!s.ok) throw new Error(JSON.stringify(s.issues));
    const { lan, start } = await pair(s.site);
    const d1 = await start('d1', '10.99.0.11');
    await waitFor(() => d1.status().every((i) => i.state === 'MASTER'), { what: 'every instance of d1 MASTER' });
    lan.setLink('10.99.0.11', 'eth1', false);
    await waitFor(() => d1.status().every((i) => i.state === 'FAULT'), { what: 'every instance of d1 FAULT' });
    lan.setLink('10.99.0.11', 'eth1', true);
    await waitFor(() => d1.status().every((i) => i.state === 'MASTER'), { what: 'every instance of d1 MASTER' });
    // Both daemons from the start; MASTER → FAULT → MASTER restarts neither (a restart would drop the unsent buffer).
    expect(lan.records.get('10.99.0.11')!.syncDaemon).toEqual(['master+backup']);
    expect(lan.records.get('10.99.0.11')!.holds.slice(0, 4)).toEqual([null, 5000, null, 5000]);
    expect(lan.records.get('10.99.0.11')!.syncConfig?.group).toBe('ff02::81');
  });

  it('connection sync settings: a revision that changes maxlen restarts the daemons once, with it; other changes and transitions leave them', async () => {
    const s = site({ connectionSync: { instance: 'VI_1', syncId: 3 } });
    const { lan, start } = await pair(s);
    const d1 = await start('d1', '10.99.0.11');
    await waitFor(() => d1.status()[0].state === 'MASTER', { what: 'd1 MASTER' });
    const rec = lan.records.get('10.99.0.11')!;
    expect(rec.syncDaemon).toEqual(['master+backup']);
    expect(rec.syncConfig).toEqual({ interface: 'eth0', syncId: 3 });
    const cfg = compileNode(s, 'd1').vrrp;
    // A new priority (or an override's reload) keeps the same sync settings: no restart.
    await d1.update({ ...cfg, instances: cfg.instances.map((i) => ({ ...i, priority: 160 })) });
    expect(rec.syncDaemon).toEqual(['master+backup']);
    const withMaxlen = compileNode(site({ connectionSync: { instance: 'VI_1', syncId: 3, maxlen: 44 } }), 'd1').vrrp;
    expect(withMaxlen.connectionSync).toMatchObject({ maxlen: 44 });
    await d1.update(withMaxlen);
    await waitFor(() => rec.syncDaemon.length === 2, { what: 'the daemons restarted' });
    expect(rec.syncDaemon).toEqual(['master+backup', 'master+backup']);
    expect(rec.syncConfig).toEqual({ interface: 'eth0', syncId: 3, maxlen: 44 });
    expect(d1.status()[0].state).toBe('MASTER');
    await d1.update(withMaxlen);
    // Connection sync removed from the site: the daemons stop.
    await d1.update({ ...withMaxlen, connectionSync: null });
    await waitFor(() => rec.syncDaemon.length === 3, { what: 'the daemons stopped' });
    expect(rec.syncDaemon).toEqual(['master+backup', 'master+backup', 'stop']);
  });

  it('unicast peers (keepalived unicast_peer): adverts go only to the peers and still elect one master', async () => {
    const { lan, start } = await pair(site({}, { unicast: true }));
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
    await d1.stop();
    runners.splice(runners.indexOf(d1), 1);
    await waitFor(() => d2.status()[0].state === 'MASTER', { what: 'd2 MASTER' });
    expect(lan.records.get('10.99.0.12')!.vips.size).toBe(1);
  });

  it('update() applies a new priority without restarting the instance; removing the instance releases it', async () => {
    const s = site();
    const { start } = await pair(s);
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
    const cfg = compileNode(s, 'd2').vrrp;
    await d2.update({ ...cfg, instances: cfg.instances.map((i) => ({ ...i, priority: 200 })) });
    await waitFor(() => d2.status()[0].state === 'MASTER' && d1.status()[0].state === 'BACKUP', { what: 'd2 MASTER and d1 BACKUP' });
    expect(d2.status()[0]).toMatchObject({ priority: 200, effectivePriority: 200 });
    await d2.update({ ...cfg, instances: [] });
    expect(d2.status()).toEqual([]);
    await waitFor(() => d1.status()[0].state === 'MASTER', { what: 'd1 MASTER' });
  });

  it('BFD: the peer session going Down makes the backup MASTER at once (1 s adverts); track_bfd with no weight faults until Up', async () => {
    const s = site({ bfd: [{ name: 'gw', node: 'd1', peer: '10.99.0.1' }] }, { version: 2, advertInterval: '1s', trackBfd: [{ name: 'gw' }] });
    const { lan, logs, start } = await pair(s);
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    // keepalived starts a tracked bfd as down: d1 is in FAULT until its gateway session is Up.
    await waitFor(() => d1.status()[0].state === 'FAULT', { what: 'd1 FAULT' });
    d1.bfd({ name: 'gw', up: true });
    d2.bfd({ name: 'pair-d1-d2', up: true });
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP', timeoutMs: 10_000 });
    // BFD's Down concerns the master d2 heard: when d1's timer beat d2's, d2 is BACKUP before
    // d1's first advert reaches it (a tick later, or more on a loaded host). Wait for one.
    const rx = lan.records.get('10.99.0.12')!;
    const heard = rx.received;
    await waitFor(() => rx.received > heard, { what: "an advert of d1's reaching d2", timeoutMs: 5_000 });
    expect(d1.status()[0].state).toBe('MASTER');
    // d1 crashes: silent on the LAN. Without BFD d2 would wait Master_Down_Interval (3.6 s).
    lan.records.get('10.99.0.11')!.connected = false;
    d2.bfd({ name: 'pair-d1-d2', up: false });
    // At once: in the same turn, not after a timer.
    expect(d2.status()[0].state).toBe('MASTER');
    expect(logs.some((l) => /^d2 vrrp VI_1 BACKUP→MASTER \(master down \(BFD pair-d1-d2 down/.test(l))).toBe(true);
  });

  it('maintenance with the peer confirmed by BFD: the master releases at once with priority 0 and the peer takes over (the preemption path without BFD: agent/lab/maintenance.lab.test.ts)', async () => {
    const s = site({}, { version: 2, advertInterval: '1s' });
    const m = [override('maintenance-director', { node: 'd1', until: new Date(Date.now() + 3_600_000).toISOString() })];
    const layered = (n: 'd1' | 'd2') => layer(compileNode(s, n), m, Date.now()).vrrp;
    const { logs, start } = await pair(s);
    const d1 = await start('d1', '10.99.0.11');
    const d2 = await start('d2', '10.99.0.12');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP', timeoutMs: 10_000 });
    d1.bfd({ name: 'pair-d1-d2', up: true });
    await d2.update(layered('d2'));
    await d1.update(layered('d1'));
    // In the same turn: the BFD session to d2 is Up, so d1 hands over without waiting for a preemption.
    expect(d1.status()[0]).toMatchObject({ state: 'BACKUP', priority: 1 });
    expect(logs.some((l) => /^d1 vrrp VI_1 MASTER→BACKUP \(maintenance: handing over \(BFD pair-d1-d2 up\)\)/.test(l))).toBe(true);
    await waitFor(() => d2.status()[0].state === 'MASTER', { what: 'd2 MASTER after the priority-0 release', timeoutMs: 5_000 });
  }, 20_000);
});

describe('takeover order', () => {
  it('the VIPs are being added and the GARP sent before the transition is logged or reported', async () => {
    const lan = new MemoryLan();
    const order: string[] = [];
    const start = async (name: 'd1' | 'd2', addr: string) => {
      const cfg = compileNode(site(), name);
      const host = lan.host(addr);
      const r = await startVrrp({
        nodeId: `lab.${name}`,
        node: cfg.node,
        config: cfg.vrrp,
        host: {
          ...host,
          addVips: (v) => (order.push(`${name} addVips`), host.addVips(v)),
          garp: (i, a, n) => (order.push(`${name} garp`), host.garp(i, a, n)),
        },
        emit: (e) => order.push(`${name} event ${e.type}`),
        log: (l) => /→MASTER/.test(l) && order.push(`${name} log →MASTER`),
      });
      runners.push(r);
      return r;
    };
    const d2 = await start('d2', '10.99.0.12');
    const d1 = await start('d1', '10.99.0.11');
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER and d2 BACKUP' });
    order.length = 0;
    await d1.stop();
    runners.splice(runners.indexOf(d1), 1);
    await waitFor(() => d2.status()[0].state === 'MASTER', { what: 'd2 MASTER' });
    const d2Order = order.filter((o) => o.startsWith('d2'));
    expect(d2Order.slice(0, 4)).toEqual(['d2 addVips', 'd2 garp', 'd2 log →MASTER', 'd2 event vrrp.transition']);
  });
});
