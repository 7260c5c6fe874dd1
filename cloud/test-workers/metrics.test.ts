import { exports } from 'cloudflare:workers';
import { env } from 'cloudflare:test';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { alerts, nodeCredentials, sites } from '../src/db/schema.ts';
import { FLEET_FAMILIES } from '../src/metrics/fleet-model.ts';
import { openWorkerDb } from '../src/workers/db.ts';
import { natSite, untilDrained } from './site.test-support.ts';

const token = inject('workersToken');
const relay = inject('workersRelayUrl');
const kind = inject('workersDatabaseKind');
const ORIGIN = 'http://lvsfleet.test';
const SITE_NAME = 'wkmetrics';

const SITE = natSite(SITE_NAME, {
  directors: 2,
  realServers: 3,
  spec: {
    vrrp: [
      {
        name: 'VI_1',
        vrid: 51,
        vips: ['192.0.2.100/32'],
        members: [
          { node: 'd1', priority: 100 },
          { node: 'd2', priority: 90 },
        ],
      },
    ],
  },
  service: { healthCheck: { type: 'tcp', interval: '5s', timeout: '2s' } },
});

const api = (path: string, init: RequestInit = {}) =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });

async function ok(res: Response | Promise<Response>, status = 200): Promise<Response> {
  const r = await res;
  expect(r.status, await r.clone().text()).toBe(status);
  return r;
}

/** Enrolls a node through the Worker, as `lvsfleet-agent enroll` does: its broker login, which also authenticates its HTTPS reports. */
async function enroll(node: string): Promise<{ nodeId: string; basic: string }> {
  const made = await ok(api(`/v1/sites/${SITE_NAME}/nodes/${node}/enrollment`, { method: 'POST', body: '{}' }));
  const { token: once } = (await made.json()) as { token: string };
  const res = await ok(
    exports.default.fetch(`${ORIGIN}/v1/agent/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: once }),
    }),
  );
  const got = (await res.json()) as { nodeId: string; mqtt: { username: string; password: string } };
  return { nodeId: got.nodeId, basic: `Basic ${btoa(`${got.mqtt.username}:${got.mqtt.password}`)}` };
}

/** POST /v1/agent/status|events with the node's credentials, as the agent's HTTP reporter does. */
const report = (who: { basic: string }, what: 'status' | 'events', body: unknown) =>
  ok(
    exports.default.fetch(`${ORIGIN}/v1/agent/${what}`, {
      method: 'POST',
      headers: { authorization: who.basic, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    204,
  );

/** Both directors MASTER (split brain); of the three real servers one is up, one down and one not checked yet. */
const status = (nodeId: string) => ({
  nodeId,
  online: true,
  at: new Date().toISOString(),
  appliedRevision: 1,
  vrrp: [{ instance: 'VI_1', vrid: 51, state: 'MASTER', priority: 100, effectivePriority: 100 }],
  services: [
    {
      name: 'web',
      quorum: true,
      realServers: [
        { address: '192.0.2.21', port: 8080, healthy: true, weight: 1, checked: true },
        { address: '192.0.2.22', port: 8080, healthy: false, weight: 0, checked: true, detail: 'connection refused' },
        { address: '192.0.2.23', port: 8080, healthy: true, weight: 1, checked: false },
      ],
    },
  ],
});

const transition = (nodeId: string, from: string, to: string, secondsAgo: number) => ({
  nodeId,
  at: new Date(Date.now() - secondsAgo * 1000).toISOString(),
  type: 'vrrp.transition',
  data: { instance: 'VI_1', from, to, reason: 'test' },
});

/** An exposition's families: HELP, TYPE and each sample's value by its series (name and labels as written). */
function parse(text: string): Map<string, { help?: string; type?: string; samples: Map<string, number> }> {
  const out = new Map<string, { help?: string; type?: string; samples: Map<string, number> }>();
  const family = (name: string) => out.get(name) ?? out.set(name, { samples: new Map() }).get(name)!;
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) family(meta[2])[meta[1] === 'HELP' ? 'help' : 'type'] = meta[3];
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    // Keyed by the sample's name: a histogram's _bucket, _sum and _count (Node's HTTP ones) stand apart, which is all this test needs.
    if (sample) family(sample[1]).samples.set(sample[1] + (sample[2] ?? ''), Number(sample[3]));
  }
  return out;
}

const FLEET_NAMES = Object.values(FLEET_FAMILIES).map((f) => f.name);
let workerText = '';
const enrolled: string[] = [];

describe(`GET /metrics on the Worker (${kind})`, () => {
  beforeAll(async () => {
    await ok(api(`/v1/sites/${SITE_NAME}/spec`, { method: 'PUT', body: JSON.stringify(SITE) }));
    const d1 = await enroll('d1');
    const d2 = await enroll('d2');
    enrolled.push(d1.nodeId, d2.nodeId);
    await report(d1, 'status', status(d1.nodeId));
    await report(d2, 'status', status(d2.nodeId));
    // Three transitions to MASTER in the history, and one away from it that does not count.
    await report(d1, 'events', transition(d1.nodeId, 'BACKUP', 'MASTER', 120));
    await report(d1, 'events', transition(d1.nodeId, 'MASTER', 'BACKUP', 90));
    await report(d2, 'events', transition(d2.nodeId, 'BACKUP', 'MASTER', 60));
    await report(d2, 'events', transition(d2.nodeId, 'INIT', 'MASTER', 30));
    // An open alert as the alerter stores it (its rounds are the cron's, tested in flow.test.ts).
    const db = openWorkerDb(env as never)!;
    const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.name, SITE_NAME));
    await db.insert(alerts).values({
      siteId: site.id,
      key: 'site.split_brain|vrrp:VI_1',
      type: 'site.split_brain',
      severity: 'critical',
      subject: 'vrrp:VI_1',
      summary: 'd1 and d2 are both MASTER',
      firstSeenAt: new Date(),
      raisedAt: new Date(),
    });
    // The Worker asks for its scrape token (METRICS_TOKEN, vitest.workers.config.ts): refused
    // without it or with another, served with it.
    const bare = await exports.default.fetch(`${ORIGIN}/metrics`);
    expect(bare.status).toBe(401);
    expect(await bare.text()).not.toContain(SITE_NAME);
    const wrong = await exports.default.fetch(`${ORIGIN}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    const res = await exports.default.fetch(`${ORIGIN}/metrics`, { headers: { authorization: 'Bearer workers-test-scrape-token' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    workerText = await res.text();
  });

  afterAll(async () => {
    // The database is shared with flow.test.ts, whose key rotation retires a key only once every
    // enrolled node pinned a newer one: these nodes never will, so they are enrolled no more. Not
    // by a new spec without them (dynsec.test.ts's way): a run that did that here met workerd's
    // "I/O on behalf of a different Durable Object" from this site's publisher, which that apply
    // woke as the file ended, and a hung sites.test.ts.
    const db = openWorkerDb(env as never)!;
    await db.delete(nodeCredentials).where(inArray(nodeCredentials.nodeId, enrolled));
    // The apply woke this site's publisher: let its drain end in this file.
    await untilDrained(db, SITE_NAME);
  }, 60_000);

  it("serves the fleet's values for the seeded site: masters, states, real servers, alerts, transitions to MASTER", () => {
    const lines = workerText.split('\n');
    const s = `site="${SITE_NAME}"`;
    for (const line of [
      `lvsfleet_vrrp_masters{${s},instance="VI_1"} 2`,
      `lvsfleet_vrrp_group_status{${s},instance="VI_1",status="split_brain"} 1`,
      `lvsfleet_vrrp_group_status{${s},instance="VI_1",status="ok"} 0`,
      `lvsfleet_site_status{${s},status="major_outage"} 1`,
      `lvsfleet_site_status{${s},status="operational"} 0`,
      `lvsfleet_node_online{${s},node="d1",role="director"} 1`,
      `lvsfleet_node_online{${s},node="d2",role="director"} 1`,
      `lvsfleet_service_healthy_realservers{${s},service="web"} 1`,
      `lvsfleet_service_realservers{${s},service="web",state="up"} 1`,
      `lvsfleet_service_realservers{${s},service="web",state="down"} 1`,
      `lvsfleet_service_realservers{${s},service="web",state="unchecked"} 1`,
      `lvsfleet_service_realservers{${s},service="web",state="unknown"} 0`,
      `lvsfleet_alerts_open{${s},type="site.split_brain",severity="critical"} 1`,
      `lvsfleet_vrrp_become_master_total{${s},instance="VI_1"} 3`,
    ])
      expect(lines).toContain(line);
    const age = Number(new RegExp(`^lvsfleet_node_report_age_seconds\\{${s},node="d1"\\} (\\S+)$`, 'm').exec(workerText)?.[1]);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(45);
    expect(workerText).toMatch(/^lvsfleet_outbox_pending \d+$/m);
  });

  it('has exactly the fleet families: nothing a long-lived process counts (process, Node.js, HTTP, deliveries, ingest)', () => {
    expect([...parse(workerText).keys()].sort()).toEqual([...FLEET_NAMES].sort());
  });

  it('agrees with what `lvsfleet serve` answers for the same database', async () => {
    const res = await fetch(`${relay}/__node-metrics`);
    expect(res.status).toBe(200);
    const node = parse(((await res.json()) as { text: string }).text);
    const worker = parse(workerText);
    // Node serves more (its process's own counts); of the fleet, the same families with the same HELP and TYPE.
    expect(FLEET_NAMES.filter((n) => !node.has(n))).toEqual([]);
    let compared = 0;
    for (const name of FLEET_NAMES) {
      const [w, n] = [worker.get(name)!, node.get(name)!];
      expect({ name, help: w.help, type: w.type }).toEqual({ name, help: n.help, type: n.type });
      // This site's series (other test files may change other sites meanwhile): same set, same values.
      const mine = (m: Map<string, number>) => new Map([...m].filter(([k]) => k.includes(`site="${SITE_NAME}"`)));
      const [ws, ns] = [mine(w.samples), mine(n.samples)];
      expect([...ws.keys()].sort(), name).toEqual([...ns.keys()].sort());
      // A report's age grows between the two scrapes, by their distance in time.
      for (const [k, v] of ws) expect(Math.abs(v - ns.get(k)!), k).toBeLessThanOrEqual(name === 'lvsfleet_node_report_age_seconds' ? 5 : 0);
      compared += ws.size;
    }
    // 5 site states, 2 nodes online and their ages, 1 masters + 4 group states, 1 healthy + 4 by state, 1 alert, 1 counter.
    expect(compared).toBe(5 + 2 + 2 + 1 + 4 + 1 + 4 + 1 + 1);
  });

  it('passes promtool check metrics', async (t) => {
    const res = await fetch(`${relay}/__promtool`, { method: 'POST', body: workerText });
    const r = (await res.json()) as { skipped?: string; status?: number; output?: string };
    if (r.skipped) {
      console.log(`workers /metrics: promtool check skipped (${r.skipped})`);
      return t.skip();
    }
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});
