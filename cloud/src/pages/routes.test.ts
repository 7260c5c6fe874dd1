import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { alerts, events, nodeStatus, rollouts, siteRevisions, statusHistory } from '../db/schema.ts';
import { newRollout } from '../rollout/plan.ts';
import { planSummary } from '../rollout/summary.ts';
import { parse } from 'yaml';
import { Site } from '#shared/site/site.ts';
import { useTestApp } from '../api/test-app.test-support.ts';
import { createApiToken } from '../auth/tokens.ts';
import { applySite } from '../sites/apply.ts';
import { requireSite } from '../sites/queries.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { StatusBook } from '../status/book.ts';
import { StatusHistory } from '../status/history.ts';

const t = useTestApp({ deps: (db) => ({ status: new StatusBook(db, undefined, new StatusHistory(db)) }) });

/** Every address the seeds' spec names: nodes, the VIP (with its prefix), real servers, the sorry server. */
const ADDRESSES = ['192.168.1.130', '192.168.1.131', '192.168.1.132', '192.168.1.133', '192.168.1.150', '192.168.1.113', '127.0.0.1'];

const withPage = (page: string, name = 'bj-dc1') =>
  SEEDS_YAML.replace('metadata: { name: bj-dc1 }', `metadata: { name: ${name} }`).replace(/^spec:\n/m, `spec:\n  statusPage: ${page}\n`);

/** dr1 MASTER with rs2 down; dr2 never reported (so: degraded, one node offline). */
async function seed(yaml: string, name = 'bj-dc1') {
  expect((await t.req(`/v1/sites/${name}/spec`, { method: 'PUT', yaml })).status).toBe(200);
  const site = await requireSite(t.db.db, 'default', name);
  await t.db.db.insert(nodeStatus).values({
    nodeId: `${name}.dr1`,
    online: true,
    appliedRevision: 1,
    status: {
      appliedRevision: 1,
      vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }],
      services: [
        {
          name: 'web',
          quorum: true,
          realServers: [
            { address: '192.168.1.132', port: 80, healthy: true, weight: 2, checked: true },
            { address: '192.168.1.133', port: 80, healthy: false, weight: 0, checked: true, detail: 'GET http://192.168.1.133:80/ refused' },
            { address: '192.168.1.113', port: 80, healthy: true, weight: 1, checked: true },
          ],
        },
      ],
      errors: ['ipvs: 192.168.1.150:80 could not be added'],
    },
  });
  const day = 86_400_000;
  const now = Date.now();
  await t.db.db.insert(alerts).values([
    {
      siteId: site.id,
      key: 'realserver.down|realserver:web/192.168.1.133:80',
      type: 'realserver.down',
      severity: 'warning',
      subject: 'realserver:web/192.168.1.133:80',
      summary: 'web 192.168.1.133:80 down',
      firstSeenAt: new Date(now - 600_000),
      raisedAt: new Date(now - 570_000),
    },
    {
      siteId: site.id,
      key: 'site.no_master|vrrp:VI_1',
      type: 'site.no_master',
      severity: 'critical',
      subject: 'vrrp:VI_1',
      summary: 'VI_1: no director is MASTER (VIP 192.168.1.150)',
      firstSeenAt: new Date(now - 2 * day),
      raisedAt: new Date(now - 2 * day + 30_000),
      resolvedAt: new Date(now - 2 * day + 12 * 60_000),
    },
    {
      siteId: site.id,
      key: 'node.offline|node:dr2',
      type: 'node.offline',
      severity: 'warning',
      subject: 'node:dr2',
      summary: 'dr2 offline',
      firstSeenAt: new Date(now - 300_000),
      raisedAt: new Date(now - 270_000),
    },
  ]);
  await t.db.db
    .insert(statusHistory)
    .values({ siteId: site.id, subject: 'site', state: 'major_outage', fromAt: new Date(now - 3 * day), confirmedAt: new Date(now - 2 * day) });
  return site;
}

const get = (path: string, as: 'viewer' | null = null) => t.req(path, { as });

describe('public status page', () => {
  it('renders the state with reasons in words, uptime bars and the incident timeline, without a meta refresh', async () => {
    await seed(withPage('{ public: true, title: Seeds web }'));
    const res = await get('/status/bj-dc1');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('http-equiv');
    expect(html).toContain('<h1>Seeds web</h1>');
    expect(html).toContain('data-overall="degraded_performance"');
    expect(html).toMatch(/dr2 has never reported/);
    expect(html).toContain('src="/assets/status.js"');
    expect(html).toContain('<noscript>');
    // Uptime: 90 cells per bar (site, one service, one group); the stored outage shows as down.
    expect(html.match(/class="bar"/g)).toHaveLength(3);
    expect(html).toMatch(/class="day down"/);
    // Incidents newest first: dr2 offline (open), then the no-master one, resolved after 12 min; single real servers are left out.
    const timeline = html.slice(html.indexOf('id="incidents"'));
    expect(timeline.indexOf('dr2 offline')).toBeLessThan(timeline.indexOf('no director is MASTER'));
    expect(timeline).toContain('after 12m');
    expect(timeline).toContain('ongoing for 5m');
    expect(timeline).not.toContain('realserver.down');
  });

  it('is private by default: a stranger gets the same 401 as for a missing site, a viewer sees it', async () => {
    await seed(SEEDS_YAML);
    for (const path of ['/status/bj-dc1', '/status/bj-dc1.json', '/status/bj-dc1/feed.atom', '/status/nope', '/status/nope.json']) {
      expect((await get(path)).status, path).toBe(401);
    }
    expect((await get('/status/bj-dc1/badge.svg')).status).toBe(401);
    expect((await get('/status/bj-dc1', 'viewer')).status).toBe(200);
    expect((await get('/status/bj-dc1.json', 'viewer')).status).toBe(200);
    expect((await get('/status/nope', 'viewer')).status).toBe(404);
    expect(await (await get('/status')).text()).not.toContain('bj-dc1');
  });

  it('with hideAddresses leaks no address anywhere in the page, its JSON, badges or feed', async () => {
    await seed(withPage('{ public: true, hideAddresses: true }'));
    for (const path of [
      '/status/bj-dc1',
      '/status/bj-dc1.json',
      '/status/bj-dc1/feed.atom',
      '/status/bj-dc1/badge.svg',
      '/status/bj-dc1/badge.svg?service=web',
      '/status',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      const text = await res.text();
      for (const a of ADDRESSES) expect(text, `${path} shows ${a}`).not.toContain(a);
      expect(text, path).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    }
  });

  it('shows addresses it is allowed to: the service endpoint', async () => {
    await seed(withPage('{ public: true }'));
    expect(await (await get('/status/bj-dc1')).text()).toContain('192.168.1.150');
  });

  it("serves Statuspage's summary.json with CORS *", async () => {
    await seed(withPage('{ public: true, title: Seeds web }'));
    const res = await get('/status/bj-dc1.json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = await res.json();
    expect(body.page).toMatchObject({ id: 'bj-dc1', name: 'Seeds web', time_zone: 'Etc/UTC' });
    expect(body.page.url).toMatch(/\/status\/bj-dc1$/);
    expect(body.status).toEqual({ indicator: 'minor', description: 'Degraded Performance' });
    expect(body.components.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([
      ['service:web', 'degraded_performance'],
      ['vrrp:VI_1', 'operational'],
    ]);
    // Only unresolved incidents, as Statuspage lists them; the real server's own one stays private.
    expect(body.incidents.map((i: { name: string; status: string; impact: string }) => [i.name, i.status, i.impact])).toEqual([
      ['dr2 offline', 'investigating', 'major'],
    ]);
    expect(body.scheduled_maintenances).toEqual([]);
    const pre = await t.app.request('/status/bj-dc1.json', { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('is in the OpenAPI document with an operationId and a tag', async () => {
    const doc = await (await get('/openapi.json')).json();
    const op = doc.paths['/status/{site}.json'].get;
    expect(op.operationId).toBe('getPublicStatusSummary');
    expect(op.tags).toEqual(['status pages']);
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/StatusSummary');
  });

  it('serves shields-style badges for the site, a service and a group', async () => {
    await seed(withPage('{ public: true }'));
    const site = await get('/status/bj-dc1/badge.svg');
    expect(site.headers.get('content-type')).toContain('image/svg+xml');
    const svg = await site.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<title>bj-dc1: degraded</title>');
    expect(svg).toContain('#a16207');
    expect(await (await get('/status/bj-dc1/badge.svg?service=web')).text()).toContain('<title>web: degraded</title>');
    expect(await (await get('/status/bj-dc1/badge.svg?group=VI_1')).text()).toContain('<title>VI_1: master dr1</title>');
    expect((await get('/status/bj-dc1/badge.svg?service=nope')).status).toBe(404);
  });

  it('serves an Atom feed of the incidents', async () => {
    await seed(withPage('{ public: true }'));
    const res = await get('/status/bj-dc1/feed.atom');
    expect(res.headers.get('content-type')).toContain('application/atom+xml');
    const xml = await res.text();
    expect(xml).toContain('<feed xmlns="http://www.w3.org/2005/Atom">');
    expect(xml.match(/<entry>/g)).toHaveLength(2);
    expect(xml).toContain('<title>Resolved: VI_1: no director is MASTER (VIP 192.168.1.150)</title>');
    expect(xml.indexOf('dr2 offline')).toBeLessThan(xml.indexOf('Resolved:'));
  });

  it('lists the public sites worst first at /status, never the private ones', async () => {
    await seed(withPage('{ public: true }', 'b-site'), 'b-site');
    expect((await t.req('/v1/sites/a-site/spec', { method: 'PUT', yaml: withPage('{ public: true }', 'a-site') })).status).toBe(200);
    expect((await t.req('/v1/sites/c-site/spec', { method: 'PUT', yaml: withPage('{ public: false }', 'c-site') })).status).toBe(200);
    const html = await (await get('/status')).text();
    const order = [...html.matchAll(/data-site="([^"]+)" data-state="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    // a-site has no reports at all (unknown); b-site is degraded, which says more and comes first.
    expect(order).toEqual(['b-site degraded_performance', 'a-site unknown']);
  });

  it('records state history as pages evaluate', async () => {
    const site = await seed(withPage('{ public: true }'));
    await get('/status/bj-dc1');
    const rows = await t.db.db.select().from(statusHistory);
    expect(rows.filter((r) => r.siteId === site.id).map((r) => `${r.subject} ${r.state}`)).toEqual(
      expect.arrayContaining(['site degraded_performance', 'service:web degraded_performance', 'vrrp:VI_1 ok']),
    );
  });
});

describe('dashboard data', () => {
  it('needs a viewer token', async () => {
    expect((await get('/dashboard/fleet.json')).status).toBe(401);
    expect((await get('/dashboard/sites/bj-dc1/diff.json?from=1&to=2')).status).toBe(401);
  });

  it('has the fleet summary and the sites worst first, with drift, open alerts, events and revisions', async () => {
    await seed(SEEDS_YAML);
    expect((await t.req('/v1/sites/a-site/spec', { method: 'PUT', yaml: withPage('{ public: true }', 'a-site') })).status).toBe(200);
    const site = await requireSite(t.db.db, 'default', 'bj-dc1');
    await t.db.db.insert(events).values([
      {
        siteId: site.id,
        nodeId: 'bj-dc1.dr1',
        type: 'vrrp.transition',
        data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down' },
        at: new Date(),
      },
      {
        siteId: site.id,
        nodeId: 'bj-dc1.dr1',
        type: 'vrrp.transition',
        data: { instance: 'VI_1', from: 'INIT', to: 'BACKUP', reason: 'start' },
        at: new Date(),
      },
    ]);
    const res = await get('/dashboard/fleet.json', 'viewer');
    expect(res.status).toBe(200);
    const d = await res.json();
    expect(d.summary).toMatchObject({
      sites: 2,
      byState: { degraded_performance: 1, unknown: 1, operational: 0 },
      openAlerts: { warning: 2, critical: 0, info: 0 },
      failovers: 1,
    });
    // bj-dc1: dr2, rs1, rs2 never reported; a-site: all four.
    expect(d.summary.nodes).toBe(8);
    expect(d.summary.nodesOffline).toBe(7);
    expect(d.sites.map((s: { site: string }) => s.site)).toEqual(['bj-dc1', 'a-site']);
    const bj = d.sites[0];
    const dr1 = bj.nodes.find((n: { name: string }) => n.name === 'dr1');
    expect(dr1).toMatchObject({ appliedRevision: 1, desiredRevision: 1, drift: false });
    expect(bj.openAlerts.map((a: { type: string }) => a.type).sort()).toEqual(['node.offline', 'realserver.down']);
    expect(bj.events.map((e: { type: string }) => e.type)).toEqual(['vrrp.transition', 'vrrp.transition']);
    expect(bj.revisions.map((r: { revision: number }) => r.revision)).toEqual([1]);
  });

  it("lists each site's 20 newest events and revisions, however many the day had, and counts the day's failovers", async () => {
    await seed(SEEDS_YAML);
    expect((await t.req('/v1/sites/a-site/spec', { method: 'PUT', yaml: withPage('{ public: true }', 'a-site') })).status).toBe(200);
    const bj = await requireSite(t.db.db, 'default', 'bj-dc1');
    const other = await requireSite(t.db.db, 'default', 'a-site');
    const now = Date.now();
    const ago = (ms: number) => new Date(now - ms);
    const transition = (siteId: string, to: string, at: Date) => ({
      siteId,
      nodeId: null,
      type: 'vrrp.transition',
      data: { instance: 'VI_1', from: 'BACKUP', to, reason: 'test' },
      at,
    });
    await t.db.db.insert(events).values([
      // bj-dc1: a busy day of applies (the newest at 1 s ago), and failovers two days ago.
      ...Array.from({ length: 30 }, (_, i) => ({ siteId: bj.id, nodeId: null, type: 'apply.succeeded', data: { revision: i }, at: ago((i + 1) * 1000) })),
      transition(bj.id, 'MASTER', ago(2 * 86_400_000)),
      transition(bj.id, 'MASTER', ago(2 * 86_400_000)),
      // a-site: older than all of bj-dc1's today, yet its own: two failovers and a step down.
      transition(other.id, 'MASTER', ago(3_600_000)),
      transition(other.id, 'BACKUP', ago(3_600_000 + 1)),
      transition(other.id, 'MASTER', ago(3_600_000 + 2)),
    ]);
    const [first] = await t.db.db.select().from(siteRevisions).where(eq(siteRevisions.siteId, bj.id));
    await t.db.db.insert(siteRevisions).values(Array.from({ length: 24 }, (_, i) => ({ ...first, revision: i + 2, message: `r${i + 2}` })));
    const d = await (await get('/dashboard/fleet.json', 'viewer')).json();
    expect(d.summary.failovers).toBe(2);
    const site = (name: string) => d.sites.find((x: { site: string }) => x.site === name);
    const bjEvents = site('bj-dc1').events as { type: string; data: { revision: number } }[];
    expect(bjEvents.map((e) => e.data.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(site('a-site').events.map((e: { data: { to: string } }) => e.data.to)).toEqual(['MASTER', 'BACKUP', 'MASTER']);
    expect(site('bj-dc1').revisions.map((r: { revision: number }) => r.revision)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    expect(site('a-site').revisions.map((r: { revision: number }) => r.revision)).toEqual([1]);
  });

  it("lists each site's six newest rollouts as the API's summaries list them, in the same read", async () => {
    await seed(SEEDS_YAML);
    expect((await t.req('/v1/sites/a-site/spec', { method: 'PUT', yaml: withPage('{ public: true }', 'a-site') })).status).toBe(200);
    const bj = await requireSite(t.db.db, 'default', 'bj-dc1');
    const other = await requireSite(t.db.db, 'default', 'a-site');
    const ended = (revision: number, released: string[]) => ({
      ...newRollout({ revision, previousRevision: revision - 1, bakeMs: 1000, stageTimeoutMs: 5000, nodes: [] }),
      state: 'completed' as const,
      stages: [
        { name: 'backups' as const, nodes: ['rs1', 'rs2', 'dr2'] },
        { name: 'masters' as const, nodes: ['dr1'] },
      ],
      stage: 1,
      released,
    });
    const row = (siteId: string, plan: ReturnType<typeof ended>) => ({
      siteId,
      revision: plan.revision,
      state: plan.state,
      plan,
      summary: planSummary(plan),
      author: 'test',
      endedAt: new Date(),
    });
    await t.db.db
      .insert(rollouts)
      .values([
        ...Array.from({ length: 8 }, (_, i) => row(bj.id, ended(i + 2, ['rs1', 'rs2', 'dr2', 'dr1'].slice(0, (i % 4) + 1)))),
        row(other.id, ended(5, ['rs1'])),
      ]);
    const d = await (await get('/dashboard/fleet.json', 'viewer')).json();
    for (const [name, revisions] of [
      ['bj-dc1', [9, 8, 7, 6, 5, 4]],
      ['a-site', [5]],
    ] as const) {
      const listed = d.sites.find((x: { site: string }) => x.site === name).rollouts;
      expect(listed.map((r: { revision: number }) => r.revision)).toEqual(revisions);
      expect(listed).toEqual((await (await get(`/v1/sites/${name}/rollouts?limit=6`, 'viewer')).json()).rollouts);
    }
    expect(d.sites.find((x: { site: string }) => x.site === 'bj-dc1').rollouts[0]).toMatchObject({
      state: 'completed',
      stages: [
        { name: 'backups', nodeCount: 3 },
        { name: 'masters', nodeCount: 1 },
      ],
      releasedCount: 4,
    });
  });

  it('diffs two revisions field by field, secrets masked', async () => {
    await seed(SEEDS_YAML);
    const next = SEEDS_YAML.replace('scheduler: wlc', 'scheduler: rr')
      .replace('{ node: rs2, port: 80, weight: 1 }', '{ node: rs2, port: 80, weight: 5 }')
      .replace('"1111"', '"2222"');
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: next })).status).toBe(200);
    const res = await get('/dashboard/sites/bj-dc1/diff.json?from=1&to=2', 'viewer');
    expect(res.status).toBe(200);
    const d = await res.json();
    expect(d.changes).toEqual([
      { path: 'spec.services.web.scheduler', before: 'wlc', after: 'rr' },
      { path: 'spec.services.web.realServers.rs2:80.weight', before: 1, after: 5 },
    ]);
    expect(JSON.stringify(d)).not.toContain('2222');
    expect((await get('/dashboard/sites/bj-dc1/diff.json?from=1&to=9', 'viewer')).status).toBe(404);
    const bad = await get('/dashboard/sites/bj-dc1/diff.json?from=x&to=2', 'viewer');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/^from: /);
  });
});

describe('pages with a second org', () => {
  /** Another org's site of the same name as ours (bj-dc1, private) and a public one of its own, and a viewer token of that org. */
  async function otherOrg(): Promise<string> {
    const { secret } = await createApiToken(t.db.db, { orgId: 'other', name: 'other-viewer', scope: 'viewer' });
    // Their bj-dc1 is at revision 2 (ours at 1): the dashboard's JSON has no title to tell them apart by.
    for (const [name, page] of [
      ['bj-dc1', '{ public: false, title: Theirs at first }'],
      ['bj-dc1', '{ public: false, title: Theirs }'],
      ['their-public', '{ public: true, title: Their public }'],
    ])
      await applySite(t.db.db, { orgId: 'other', site: Site.parse(parse(withPage(page, name))), author: 'test' });
    return secret;
  }
  const as = (path: string, secret: string) => t.app.request(path, { headers: { authorization: `Bearer ${secret}` } });

  it("shows a viewer its own org's sites only: the dashboard, a site's JSON and diff, a private page of the same name", async () => {
    await seed(withPage('{ title: Ours }'));
    const theirs = await otherOrg();
    const ours = await (await get('/dashboard/fleet.json', 'viewer')).json();
    expect(ours.sites.map((s: { site: string }) => s.site)).toEqual(['bj-dc1']);
    const mine = await (await as('/dashboard/fleet.json', theirs)).json();
    expect(mine.sites.map((s: { site: string }) => s.site).sort()).toEqual(['bj-dc1', 'their-public']);
    // The same name, each org's own: titles tell them apart.
    expect(await (await get('/status/bj-dc1', 'viewer')).text()).toContain('Ours');
    expect(await (await as('/status/bj-dc1', theirs)).text()).toContain('Theirs');
    expect(((await (await as('/dashboard/sites/bj-dc1.json', theirs)).json()) as { revision: number }).revision).toBe(2);
    expect(((await (await get('/dashboard/sites/bj-dc1.json', 'viewer')).json()) as { revision: number }).revision).toBe(1);
    expect((await as('/dashboard/sites/bj-dc1/diff.json?from=1&to=2', theirs)).status).toBe(200);
    expect((await get('/dashboard/sites/bj-dc1/diff.json?from=1&to=2', 'viewer')).status).toBe(404);
    // Our viewer asking for a site only the other org has: public, it is shown as to anyone; in the dashboard, no such site.
    expect((await get('/status/their-public', 'viewer')).status).toBe(200);
    expect((await get('/dashboard/sites/their-public.json', 'viewer')).status).toBe(404);
    expect((await get('/dashboard/sites/their-public/diff.json?from=1&to=1', 'viewer')).status).toBe(404);
  });

  it("never shows a viewer another org's private site: not found, as a missing one", async () => {
    await seed(withPage('{ title: Ours }', 'only-ours'), 'only-ours');
    const theirs = await otherOrg();
    for (const path of ['/status/only-ours', '/status/only-ours.json', '/status/only-ours/feed.atom', '/dashboard/sites/only-ours.json']) {
      const res = await as(path, theirs);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('Ours');
    }
  });
});
