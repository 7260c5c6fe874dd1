import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResolvedVip } from '#shared/config/node-config.ts';
import { newInstanceCounters } from '../vrrp/instance.ts';
import type { VrrpInstanceStats } from '../vrrp/driver.ts';
import { AgentMetrics, type AgentSnapshot } from './agent-metrics.ts';
import { labelNames, parseExposition } from './exposition.test-support.ts';

const fixture = parseExposition(readFileSync(join(import.meta.dirname, 'fixtures/keepalived-exporters.prom'), 'utf8'));

/** What the agent does not export, and where its TYPE differs (fixtures/README.md says why). */
const NOT_EXPORTED = ['keepalived_script_state'];
const TYPE_DIFFERS = (name: string) => (name.startsWith('keepalived_lvs_') ? 'untyped' : null);

const vip = (address: string, prefix: number, iface: string): ResolvedVip => ({ address, prefix, interface: iface }) as ResolvedVip;

/** The director the fixture describes, as the agent's parts report it. */
function fixtureDirector(): AgentSnapshot {
  const counters = newInstanceCounters();
  Object.assign(counters, {
    advert_rcvd: 3,
    advert_sent: 120,
    become_master: 1,
    release_master: 2,
    packet_len_err: 4,
    advert_interval_err: 5,
    ip_ttl_err: 6,
    invalid_type_rcvd: 7,
    addr_list_err: 8,
    invalid_authtype: 9,
    authtype_mismatch: 10,
    auth_failure: 11,
    pri_zero_rcvd: 12,
    pri_zero_sent: 13,
  });
  const instance: VrrpInstanceStats = {
    instance: 'VI_1',
    interface: 'eth0',
    vrid: 51,
    state: 'MASTER',
    vips: [vip('10.0.0.50', 32, 'eth0'), vip('10.0.1.50', 24, 'eth1')],
    excludedVips: [vip('10.0.2.50', 32, 'eth0')],
    garpDelayMs: 5000,
    counters,
  };
  const rs = { inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0 };
  return {
    status: {
      nodeId: 'lab.d1',
      online: true,
      appliedRevision: 7,
      pendingRevision: 8,
      errors: [],
      vrrp: [{ instance: 'VI_1', vrid: 51, state: 'MASTER', priority: 150, effectivePriority: 150 }],
      services: [
        {
          name: 'web',
          quorum: true,
          realServers: [
            { address: '10.0.3.1', port: 80, healthy: true, weight: 1 },
            { address: '10.0.3.2', port: 80, healthy: false, weight: 0 },
          ],
        },
      ],
    },
    vrrp: { instances: [instance], scripts: [{ name: 'chk_nginx', ok: true }] },
    ipvs: [
      {
        protocol: 'tcp',
        address: '10.0.0.50',
        port: 80,
        fwmark: 0,
        conns: 8,
        inPackets: 132,
        outPackets: 0,
        inBytes: 34840,
        outBytes: 0,
        dests: [
          { address: '10.0.3.1', port: 80, conns: 4, ...rs, inPackets: 90, inBytes: 24476 },
          { address: '10.0.3.2', port: 80, conns: 4, ...rs, inPackets: 42, inBytes: 10364 },
        ],
      },
    ],
  };
}

async function render(s: AgentSnapshot, m = new AgentMetrics()) {
  m.load(s);
  return parseExposition(await m.text());
}

describe('agent metrics against the keepalived exporters (fixtures/keepalived-exporters.prom)', () => {
  it('every family of the fixture: same HELP, TYPE, series (label names and values) and values', async () => {
    const ours = await render(fixtureDirector());
    for (const [name, theirs] of fixture) {
      if (NOT_EXPORTED.includes(name)) {
        expect(ours.has(name), name).toBe(false);
        continue;
      }
      const f = ours.get(name);
      expect(f, `${name} is missing`).toBeDefined();
      expect(f!.help, name).toBe(theirs.help);
      expect(f!.type, name).toBe(TYPE_DIFFERS(name) ?? theirs.type);
      expect(f!.series, name).toEqual(theirs.series);
    }
  });

  it('the label sets are the exporters’ exactly', async () => {
    const ours = await render(fixtureDirector());
    const labelsOf = (f: { series: Map<string, number> }) => new Set([...f.series.keys()].map((k) => labelNames(k).join(',')));
    expect(labelsOf(ours.get('keepalived_vrrp_state')!)).toEqual(new Set(['iname,intf,ip_address,vrid']));
    expect(labelsOf(ours.get('keepalived_become_master_total')!)).toEqual(new Set(['iname,intf,vrid']));
    expect(labelsOf(ours.get('keepalived_lvs_vip_conn')!)).toEqual(new Set(['addr,proto']));
    expect(labelsOf(ours.get('keepalived_lvs_rs_conn')!)).toEqual(new Set(['addr,proto,vip']));
  });

  it("the agent's own: revisions, real-server health, check durations by type", async () => {
    const m = new AgentMetrics();
    m.checkDuration.observe({ type: 'http' }, 0.02);
    m.checkDuration.observe({ type: 'http' }, 0.3);
    m.checkDuration.observe({ type: 'tcp' }, 0.004);
    const ours = await render(fixtureDirector(), m);
    expect(ours.get('lvsfleet_agent_applied_revision')!.series).toEqual(new Map([['lvsfleet_agent_applied_revision{}', 7]]));
    expect(ours.get('lvsfleet_agent_desired_revision')!.series).toEqual(new Map([['lvsfleet_agent_desired_revision{}', 8]]));
    expect(ours.get('lvsfleet_realserver_up')!.series).toEqual(
      new Map([
        ['lvsfleet_realserver_up{address="10.0.3.1",port="80",service="web"}', 1],
        ['lvsfleet_realserver_up{address="10.0.3.2",port="80",service="web"}', 0],
      ]),
    );
    const h = ours.get('lvsfleet_check_duration_seconds')!;
    expect(h.type).toBe('histogram');
    expect(h.series.get('lvsfleet_check_duration_seconds_count{type="http"}')).toBe(2);
    expect(h.series.get('lvsfleet_check_duration_seconds_sum{type="http"}')).toBeCloseTo(0.32);
    expect(h.series.get('lvsfleet_check_duration_seconds_bucket{le="0.025",type="http"}')).toBe(1);
    expect(h.series.get('lvsfleet_check_duration_seconds_count{type="tcp"}')).toBe(1);
    // A scrape replaces the scrape-time series but keeps the observations.
    const again = await render(fixtureDirector(), m);
    expect(again.get('lvsfleet_check_duration_seconds')!.series.get('lvsfleet_check_duration_seconds_count{type="http"}')).toBe(2);
  });

  it('no IPVS on the host: the LVS series are absent, not zero; an fwmark service has its own label', async () => {
    const noIpvs = await render({ ...fixtureDirector(), ipvs: null });
    expect([...noIpvs.keys()].filter((n) => n.startsWith('keepalived_lvs_') && noIpvs.get(n)!.series.size)).toEqual([]);
    const zero = { conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0 };
    const fwm = await render({
      ...fixtureDirector(),
      ipvs: [{ protocol: 'tcp', address: null, port: 0, fwmark: 7, ...zero, dests: [{ address: '10.0.3.1', port: 0, ...zero, conns: 3 }] }],
    });
    expect(fwm.get('keepalived_lvs_rs_conn')!.series).toEqual(new Map([['keepalived_lvs_rs_conn{addr="10.0.3.1:0",proto="0",vip="fwmark:7"}', 3]]));
  });

  it('VRRP not running (real server, or its start failed): keepalived_up 0 and no keepalived VRRP series; state values 0-3', async () => {
    const failed = fixtureDirector();
    failed.status.errors = ['vrrp: cannot open raw socket'];
    const down = await render(failed);
    expect(down.get('keepalived_up')!.series).toEqual(new Map([['keepalived_up{}', 0]]));
    expect(down.get('keepalived_vrrp_state')!.series.size).toBe(0);
    expect(down.get('keepalived_become_master_total')!.series.size).toBe(0);
    expect(down.get('keepalived_script_status')!.series.size).toBe(0);

    const s = fixtureDirector();
    const [i] = s.vrrp!.instances;
    const values = [];
    for (const state of ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const) {
      s.vrrp!.instances = [{ ...i, state, vips: [], excludedVips: [] }];
      // No VIPs: one series on the instance's interface with an empty ip_address, like the exporter.
      values.push(...(await render(s)).get('keepalived_vrrp_state')!.series.entries());
    }
    expect(values).toEqual([0, 1, 2, 3].map((v) => [`keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="",vrid="51"}`, v] as [string, number]));
  });
});
