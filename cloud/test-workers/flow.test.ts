import { exports } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import { events, sites } from '../src/db/schema.ts';
import worker from '../src/worker.ts';
import { openWorkerDb } from '../src/workers/db.ts';
import { natSite } from './site.test-support.ts';

const token = inject('workersToken');
const relay = inject('workersRelayUrl');
const kind = inject('workersDatabaseKind');
const ORIGIN = 'http://lvsfleet.test';

const SITE = natSite('wk1');

const api = (path: string, init: RequestInit = {}) =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });
const control = async <T>(path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${relay}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${path}: ${JSON.stringify(json)}`);
  return json;
};

const b64 = (bytes: ArrayBuffer) => btoa(Array.from(new Uint8Array(bytes), (b) => String.fromCharCode(b)).join(''));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** Answers the agent's requests (held by the relay in Node) with this Worker, until stopped. */
function startPump(): { stop(): Promise<void>; served: string[] } {
  let stopped = false;
  const served: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const res = await fetch(`${relay}/__relay/next`);
      if (res.status !== 200) {
        await res.body?.cancel();
        continue;
      }
      const item = (await res.json()) as { id: number; method: string; path: string; headers: Record<string, string>; body: string } | null;
      if (!item) continue;
      const headers = { ...item.headers };
      delete headers.host;
      delete headers['content-length'];
      const answer = await exports.default.fetch(`${ORIGIN}${item.path}`, {
        method: item.method,
        headers,
        body: item.method === 'GET' || item.method === 'HEAD' ? undefined : unb64(item.body),
      });
      served.push(`${item.method} ${item.path} ${answer.status}`);
      const body = b64(await answer.arrayBuffer());
      await fetch(`${relay}/__relay/answer/${item.id}`, {
        method: 'POST',
        body: JSON.stringify({ status: answer.status, headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' }, body }),
      });
    }
  })();
  return {
    served,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One run of the Cron Trigger, as the platform calls it. */
async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: '* * * * *', scheduledTime: Date.now() }), env as never);
  await waitOnExecutionContext(ctx);
}

const pump = startPump();
afterAll(() => pump.stop());

describe(`the whole cloud on workerd (${kind})`, () => {
  it(
    'apply → enroll → a real agent verifies the document → its status shows → keys rotate (cron steps) → killed, the cron raises node.offline to a webhook',
    { timeout: 180_000 },
    async () => {
      const applied = await api('/v1/sites/wk1/spec', { method: 'PUT', body: JSON.stringify(SITE) });
      expect(applied.status, await applied.clone().text()).toBe(200);
      expect(((await applied.json()) as { revision: number }).revision).toBe(1);

      const { url: hookUrl } = await control<{ url: string }>('/__webhook-url');
      const hook = await api('/v1/webhooks', { method: 'POST', body: JSON.stringify({ url: hookUrl, events: ['node.offline'] }) });
      expect(hook.status, await hook.clone().text()).toBe(200);

      const made = await api('/v1/sites/wk1/nodes/d1/enrollment', { method: 'POST', body: '{}' });
      expect(made.status, await made.clone().text()).toBe(200);
      const { token: enrollToken } = (await made.json()) as { token: string };
      const started = await control<{ enrolled: string }>('/__agent/start', { token: enrollToken });
      expect(started.enrolled).toMatch(/enrolled wk1\.d1; broker mqtt:/);

      // The apply woke the site's SitePublisher; its alarm published the signed document, retained,
      // so the agent that connected later received it, verified it and applied it.
      const output = await until(
        'the agent to verify and apply revision 1',
        async () => {
          const o = (await control<{ output: string }>('/__agent/output')).output;
          return /received revision 1/.test(o) ? o : null;
        },
        60_000,
      );
      expect(output).not.toMatch(/config\.rejected/);

      // Its status came over HTTPS (POST /v1/agent/status through this Worker), no MQTT ingest anywhere.
      const node = await until(
        "the node's status on /v1/sites/wk1/status",
        async () => {
          const res = await api('/v1/sites/wk1/status');
          const body = (await res.json()) as { nodes: { name: string; state: string; appliedRevision: number | null }[] };
          const d1 = body.nodes.find((n) => n.name === 'd1');
          return d1?.appliedRevision === 1 && d1.state !== 'offline' && d1.state !== 'unknown' ? d1 : null;
        },
        60_000,
      );
      expect(node.appliedRevision).toBe(1);
      expect(pump.served.some((s) => s.startsWith('POST /v1/agent/status 204'))).toBe(true);
      // What `apply --wait` polls, read through the Worker's own status book.
      const progress = (await (await api('/v1/sites/wk1/revisions/1/progress')).json()) as {
        nodes: { name: string; appliedRevision: number | null; pendingRevision: number | null; errors: string[] }[];
        rollout: unknown;
      };
      expect(progress.nodes.find((n) => n.name === 'd1')).toMatchObject({ appliedRevision: 1, pendingRevision: null, errors: [] });
      expect(progress.rollout).toBeNull();
      // The dashboard's read of the site's rollouts (a first revision has none).
      expect(await (await api('/v1/sites/wk1/rollouts?limit=6')).json()).toEqual({ site: 'wk1', rollouts: [], next: null });

      // The status page and the dashboard's data are the Worker's too.
      const page = await api('/status/wk1');
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/wk1/);
      const dashboard = (await (await api('/dashboard/fleet.json')).json()) as { sites: { site: string; revisions: { revision: number }[] }[] };
      expect(dashboard.sites.find((s) => s.site === 'wk1')?.revisions.map((r) => r.revision)).toEqual([1]);

      // Key rotation, all on the Worker: `keys rotate` announces a key and kicks the KeyRotator,
      // which wakes the site's publisher; it signs the node's document again carrying the new key
      // set, and the agent pins it and reports it. The cron's steps then make the new key active
      // (every online node pinned it), the documents signed by it reach the agent, and retire the old one.
      const keysNow = async () =>
        (await (await api('/v1/keys')).json()) as { generation: number; keys: { kid: string; state: string; acknowledged: number }[] };
      const before = await keysNow();
      const old = before.keys.find((k) => k.state === 'active')!;
      const rotated = await api('/v1/keys/rotate', { method: 'POST', body: '{}' });
      expect(rotated.status, await rotated.clone().text()).toBe(200);
      const { kid } = (await rotated.json()) as { kid: string };
      await until('the agent to pin the announced key', async () => (await keysNow()).keys.find((k) => k.kid === kid)?.acknowledged === 1, 60_000);
      const rotatedKeys = await until(
        'the cron to make the new key active and retire the old one',
        async () => {
          await cron();
          const k = await keysNow();
          const state = (x: string) => k.keys.find((r) => r.kid === x)?.state;
          return state(kid) === 'active' && state(old.kid) === 'retired' ? k : null;
        },
        90_000,
        2000,
      );
      expect(rotatedKeys.generation).toBeGreaterThanOrEqual(before.generation + 3);
      await until(
        'the agent to verify its document signed with the new key',
        async () => new RegExp(`revision 1 re-signed with key ${kid}`).test((await control<{ output: string }>('/__agent/output')).output),
        60_000,
      );

      // No goodbye: the report only grows old. The cron's rounds find the node offline once its
      // report is older than the window, hold it for the debounce, and send the webhook.
      await cron(); // a round while the node is online: nothing to raise
      await control('/__agent/kill', {});
      // This site's: the webhook takes every site's node.offline, and other files' sites fall silent too (metrics.test.ts).
      const ours = (h: { body: { type: string; data: { site?: string } } }) => h.body.type === 'node.offline' && h.body.data.site === 'wk1';
      await until(
        "wk1's node.offline at the webhook receiver",
        async () => {
          await cron();
          const got = await control<{ body: { type: string; data: { site?: string; subject?: string } } }[]>('/__webhooks');
          return got.some(ours) ? got : null;
        },
        120_000,
        3000,
      );
      // Exactly once, however many rounds ran.
      await cron();
      const after = await control<{ body: { type: string; data: { site?: string } } }[]>('/__webhooks');
      expect(after.filter(ours)).toHaveLength(1);

      // Retention ends the cron: once the webhooks' cursor has walked past them (the alerting round
      // runs beside it, so this may take a second cron), the events older than the window
      // (EVENT_RETENTION_DAYS unset: 30 days) go, the newer stay.
      const db = openWorkerDb(env as never)!;
      const [site] = await db.select({ id: sites.id }).from(sites).where(eq(sites.name, 'wk1'));
      const aged = (days: number) => ({
        siteId: site.id,
        nodeId: 'wk1.d1',
        type: 'apply.succeeded',
        data: { revision: 1 },
        at: new Date(Date.now() - days * 86_400_000),
        receivedAt: new Date(Date.now() - days * 86_400_000),
      });
      const [old40, new29] = await db
        .insert(events)
        .values([aged(40), aged(29)])
        .returning({ id: events.id });
      const left = await until(
        'the cron to delete the event older than 30 days',
        async () => {
          await cron();
          const rows = await db
            .select({ id: events.id })
            .from(events)
            .where(inArray(events.id, [old40.id, new29.id]));
          return rows.some((e) => e.id === old40.id) ? null : rows;
        },
        30_000,
        1000,
      );
      expect(left.map((e) => e.id)).toEqual([new29.id]);
    },
  );
});
