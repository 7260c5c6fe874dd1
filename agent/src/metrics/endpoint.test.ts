import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { startHealthChecker } from '../checks/health-checker.ts';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { Engine } from '../engine/engine.ts';
import { configFor, tempDir } from '../engine/engine.test-support.ts';
import { startVrrp } from '../vrrp/driver.ts';
import { MemoryLan } from '../vrrp/sim/memory-lan.ts';
import { MetricsEndpoint } from './endpoint.ts';
import { parseExposition } from './exposition.test-support.ts';

function promtoolMissing(): string | null {
  const r = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  return r.error ? 'promtool is not installed (Debian package prometheus)' : null;
}

async function listen(): Promise<Server> {
  const s = createServer((c) => c.end());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

describe('metrics endpoint over the engine (in-memory dataplane, VRRP on an in-memory LAN, real TCP checks on loopback)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const stops: (() => Promise<unknown>)[] = [];
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await cleanup();
  });

  async function agent() {
    const backend = await listen();
    stops.push(() => new Promise((r) => backend.close(r)));
    const port = (backend.address() as { port: number }).port;
    const config = configFor(
      {
        nodes: [{ name: 'd1', role: 'director', address: '10.99.0.11', interface: 'eth0' }],
        vrrp: [{ name: 'VI_1', vrid: 51, version: 3, advertInterval: '50ms', vips: ['10.99.0.50/32'], members: [{ node: 'd1', priority: 150 }] }],
        services: [
          {
            name: 'web',
            vip: '10.99.0.50',
            port,
            forwarding: 'nat',
            scheduler: 'rr',
            healthCheck: { type: 'tcp', address: '127.0.0.1', interval: '100ms', timeout: '500ms' },
            realServers: [{ address: '127.0.0.1', port }],
          },
        ],
      },
      'd1',
    );
    const endpoint = await MetricsEndpoint.start({ host: '127.0.0.1', port: 0 }, () => {});
    stops.push(() => endpoint.close());
    const host = new MemoryHost();
    const lan = new MemoryLan();
    const engine = new Engine({
      nodeId: 't.d1',
      dataplane: host,
      stateDir: dir,
      log: () => {},
      startHealthChecker: (o) => startHealthChecker({ ...o, onProbeDone: endpoint.taps.onProbeDone }),
      startVrrp: async (o) => {
        const r = await startVrrp({ ...o, host: lan.host('10.99.0.11') });
        endpoint.taps.onVrrpStarted(r);
        return r;
      },
    });
    stops.push(() => engine.stop());
    const url = (path: string) => `http://127.0.0.1:${endpoint.address!.port}${path}`;
    return { endpoint, engine, host, config, port, url };
  }

  it('serves the engine: VRRP state and counters, real-server health, check durations, IPVS counters, revisions', async () => {
    const a = await agent();
    expect((await fetch(a.url('/metrics'))).status).toBe(503); // not attached yet
    a.endpoint.attach({ status: () => a.engine.status(), dataplane: a.host });
    await a.engine.apply(a.config, 4);
    a.host.ipvsCounters.set(`tcp:10.99.0.50:${a.port}`, { conns: 3, inPackets: 30, outPackets: 0, inBytes: 1800, outBytes: 0 });
    const scrape = async () => {
      const r = await fetch(a.url('/metrics'));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parseExposition(await r.text());
    };
    const value = (m: Awaited<ReturnType<typeof scrape>>, family: string, series: string) => m.get(family)?.series.get(series);
    let m = await scrape();
    await waitFor(async () => {
      m = await scrape();
      return value(m, 'keepalived_vrrp_state', 'keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="10.99.0.50",vrid="51"}') === 2;
    });
    expect(value(m, 'keepalived_up', 'keepalived_up{}')).toBe(1);
    expect(value(m, 'keepalived_become_master_total', 'keepalived_become_master_total{iname="VI_1",intf="eth0",vrid="51"}')).toBe(1);
    expect(value(m, 'keepalived_advertisements_sent_total', 'keepalived_advertisements_sent_total{iname="VI_1",intf="eth0",vrid="51"}')).toBeGreaterThan(0);
    expect(value(m, 'lvsfleet_agent_applied_revision', 'lvsfleet_agent_applied_revision{}')).toBe(4);
    expect(value(m, 'lvsfleet_agent_desired_revision', 'lvsfleet_agent_desired_revision{}')).toBe(4);
    expect(value(m, 'keepalived_lvs_vip_conn', `keepalived_lvs_vip_conn{addr="10.99.0.50:${a.port}",proto="6"}`)).toBe(3);
    expect(value(m, 'keepalived_lvs_rs_conn', `keepalived_lvs_rs_conn{addr="127.0.0.1:${a.port}",proto="6",vip="10.99.0.50:${a.port}"}`)).toBe(0);
    await waitFor(async () => {
      m = await scrape();
      return (value(m, 'lvsfleet_check_duration_seconds', 'lvsfleet_check_duration_seconds_count{type="tcp"}') ?? 0) >= 1;
    });
    expect(value(m, 'lvsfleet_realserver_up', `lvsfleet_realserver_up{address="127.0.0.1",port="${a.port}",service="web"}`)).toBe(1);

    const other = await fetch(a.url('/'));
    expect(other.status).toBe(404);
    expect((await fetch(a.url('/metrics/x'))).status).toBe(404);
    expect((await fetch(a.url('/metrics'), { method: 'POST' })).status).toBe(405);
  });

  it('a port already taken is a startup error naming the address and the reason', async () => {
    const a = await agent();
    await expect(MetricsEndpoint.start({ host: '127.0.0.1', port: a.endpoint.address!.port }, () => {})).rejects.toThrow(
      `metrics: cannot listen on 127.0.0.1:${a.endpoint.address!.port}: EADDRINUSE`,
    );
  });

  const noPromtool = promtoolMissing();
  if (noPromtool) console.log(`promtool check metrics skipped: ${noPromtool}`);
  it.skipIf(!!noPromtool)('promtool check metrics accepts the exposition', async () => {
    const a = await agent();
    a.endpoint.attach({ status: () => a.engine.status(), dataplane: a.host });
    await a.engine.apply(a.config, 1);
    await waitFor(async () => (await fetch(a.url('/metrics')).then((r) => r.text())).includes('lvsfleet_check_duration_seconds_count{type="tcp"}'));
    const body = await fetch(a.url('/metrics')).then((r) => r.text());
    expect(body).toContain('keepalived_lvs_vip_conn');
    // Throws with promtool's lint output on any problem (exit 3).
    execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  });
});
