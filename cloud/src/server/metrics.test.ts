import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alerts, events, nodeStatus } from '../db/schema.ts';
import { requireSite } from '../sites/queries.ts';
import { StatusBook } from '../status/book.ts';
import { useTestApp } from '../api/test-app.test-support.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { createMetrics } from './metrics.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// From PATH, where CI puts the promtool it unpacks (.ci/run), as the agent's metrics tests look for it.
const PROMTOOL = spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : null;
const promtoolSkip = PROMTOOL ? false : 'promtool not installed (apt-get install prometheus)';
if (promtoolSkip) console.log(`metrics: promtool checks skipped (${promtoolSkip})`);

let metrics!: ReturnType<typeof createMetrics>;
const t = useTestApp({
  deps: (db) => {
    const status = new StatusBook(db);
    metrics = createMetrics(db, status);
    return { status, metrics };
  },
});

const vrrp = (state: string) => [{ instance: 'VI_1', vrid: 50, state, priority: 100, effectivePriority: 100 }];
const web = (rs2: boolean) => [
  {
    name: 'web',
    quorum: true,
    realServers: [
      { address: '192.168.1.132', port: 80, healthy: true, weight: 2, checked: true },
      { address: '192.168.1.133', port: 80, healthy: rs2, weight: rs2 ? 1 : 0, checked: true },
      { address: '192.168.1.113', port: 80, healthy: true, weight: 1, checked: false },
    ],
  },
];

/** The seeds' site with both directors MASTER (split brain), one real server down, one not checked yet. */
async function splitBrainFleet() {
  expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
  const site = await requireSite(t.db.db, 'default', 'bj-dc1');
  await t.db.db.insert(nodeStatus).values(
    ['dr1', 'dr2'].map((n) => ({
      nodeId: `bj-dc1.${n}`,
      online: true,
      appliedRevision: 1,
      status: { nodeId: `bj-dc1.${n}`, online: true, appliedRevision: 1, vrrp: vrrp('MASTER'), services: web(false) },
    })),
  );
  await t.db.db.insert(events).values([
    {
      siteId: site.id,
      nodeId: 'bj-dc1.dr2',
      type: 'vrrp.transition',
      data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'no advert' },
      at: new Date(),
    },
  ]);
  await t.db.db.insert(alerts).values({
    siteId: site.id,
    key: 'site.split_brain|vrrp:VI_1',
    type: 'site.split_brain',
    severity: 'critical',
    subject: 'vrrp:VI_1',
    summary: 'dr1 and dr2 are both MASTER',
    firstSeenAt: new Date(),
    raisedAt: new Date(),
  });
  metrics.countDeliveries({ delivered: 3, retried: 1, failed: 0 });
}

async function scrape(): Promise<string> {
  expect((await t.req('/status/bj-dc1', { as: 'viewer' })).status).toBe(200); // a route whose template has a pattern
  const res = await t.req('/metrics', { as: null });
  expect(res.status).toBe(200);
  return res.text();
}

/** Metric families of an exposition: name → type. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe('cloud /metrics: the fleet', () => {
  it('says which directors are MASTER, the site and group state, real servers, open alerts, failovers and deliveries', async () => {
    await splitBrainFleet();
    const text = await scrape();
    const line = (s: string) => expect(text.split('\n')).toContain(s);
    line('lvsfleet_vrrp_masters{site="bj-dc1",instance="VI_1"} 2');
    line('lvsfleet_vrrp_group_status{site="bj-dc1",instance="VI_1",status="split_brain"} 1');
    line('lvsfleet_vrrp_group_status{site="bj-dc1",instance="VI_1",status="ok"} 0');
    line('lvsfleet_site_status{site="bj-dc1",status="major_outage"} 1');
    line('lvsfleet_site_status{site="bj-dc1",status="operational"} 0');
    line('lvsfleet_node_online{site="bj-dc1",node="dr1",role="director"} 1');
    line('lvsfleet_node_online{site="bj-dc1",node="rs1",role="realserver"} 0');
    line('lvsfleet_service_healthy_realservers{site="bj-dc1",service="web"} 1');
    line('lvsfleet_service_realservers{site="bj-dc1",service="web",state="down"} 1');
    line('lvsfleet_service_realservers{site="bj-dc1",service="web",state="unchecked"} 1');
    line('lvsfleet_alerts_open{site="bj-dc1",type="site.split_brain",severity="critical"} 1');
    line('lvsfleet_vrrp_become_master_total{site="bj-dc1",instance="VI_1"} 1');
    line('lvsfleet_webhook_deliveries_total{result="delivered"} 3');
    line('lvsfleet_webhook_deliveries_total{result="failed"} 0');
    expect(text).toMatch(/^lvsfleet_node_report_age_seconds\{site="bj-dc1",node="dr1"\} \d/m);
  });

  it('no gauge ends in _total; the route label is the template without its pattern', async () => {
    await splitBrainFleet();
    const text = await scrape();
    const gauges = [...families(text)].filter(([n, type]) => type === 'gauge' && n.endsWith('_total'));
    expect(gauges).toEqual([]);
    expect(text).toContain('route="/status/:site"');
    expect(text).not.toMatch(/route="[^"]*\{/);
  });

  it.skipIf(!!promtoolSkip)('passes promtool check metrics', async () => {
    await splitBrainFleet();
    const r = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('infra/: Prometheus rules and the Grafana dashboard', () => {
  it.skipIf(!!promtoolSkip)('alerts.yml passes promtool check rules', () => {
    const r = spawnSync(PROMTOOL!, ['check', 'rules', join(ROOT, 'infra/prometheus/alerts.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the dashboard parses, and every metric it and the rules name is in the registry', async () => {
    await splitBrainFleet();
    await scrape();
    // Names from the registry itself; a histogram's series add _bucket, _sum and _count.
    const known = new Set((await metrics.registry.getMetricsAsJSON()).flatMap((m) => [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]));
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'infra/grafana/lvsfleet-fleet.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
      templating: { list: { definition?: string }[] };
    };
    const rules = readFileSync(join(ROOT, 'infra/prometheus/alerts.yml'), 'utf8');
    const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr)), ...dashboard.templating.list.map((v) => v.definition ?? ''), rules];
    const named = new Set(exprs.flatMap((e) => e.match(/\b(lvsfleet|keepalived)_[a-z_]+\b/g) ?? []));
    expect(named.size).toBeGreaterThan(6);
    expect([...named].filter((n) => !known.has(n))).toEqual([]);
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining(['Masters per VRRP group', 'Failovers (transitions to MASTER)', 'Real servers down', 'Node report age', 'Webhook deliveries']),
    );
  });
});
