import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../main.ts';
import { memoryIO } from '../test-io.test-support.ts';
import { runName, SEEDS_PATH, SEEDS_YAML } from '../../../test/fixtures.test-support.ts';
import { collect, connectAs, endQuietly } from '../../../test/mqtt-client.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { nodeIdOf, topics } from '#shared/wire/topics.ts';
import postgres from 'postgres';
import { freshPostgres } from '../../../test/pg.test-support.ts';
import { unverifiedClaims } from '../../../test/jws.test-support.ts';

const BIN = fileURLToPath(new URL('../../../../bin/lvsfleet.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-serve-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

/** Starts `lvsfleet serve` as its own process (the way `npm start` runs it). */
function serve(args: string[], env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function banner(s: Served): Promise<string> {
  for (let i = 0; i < 1200 && !/serving on http:\/\/\S+\n[\s\S]*admin token/.test(s.out()); i++) {
    if (s.child.exitCode !== null) throw new Error(`serve exited ${s.child.exitCode}: ${s.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return s.out();
}

async function cli(args: string[], env: Record<string, string>) {
  const io = memoryIO(env);
  return { code: await main(args, io), out: io.out, err: io.err };
}

describe('lvsfleet serve (own process)', () => {
  it('prints the URL and a one-time admin token, keeps data across a restart, stops on SIGTERM', async () => {
    const data = join(dir, 'data');
    const first = serve(['--port', '0', '--mqtt-port', '0', '--data-dir', data]);
    const text = await banner(first);
    const url = /serving on (http:\/\/\S+)/.exec(text)![1];
    const token = /admin token \(shown once[^\n]*\n\s+(lvf_\S+)/.exec(text)![1];
    expect(statSync(join(data, 'admin-token')).mode & 0o777).toBe(0o600);
    const env = { LVSFLEET_URL: url, LVSFLEET_TOKEN: token };
    expect((await cli(['apply', '-f', SEEDS_PATH], env)).code).toBe(0);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('lvsfleet_http_requests_total');
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(first.err()).toContain('SIGTERM: shutting down');

    const second = serve(['--port', '0', '--mqtt-port', '0', '--data-dir', data], { LVSFLEET_ADMIN_TOKEN: 'lvf_from_env_0123456789abcdef' });
    const text2 = await banner(second);
    expect(text2).not.toContain('shown once');
    expect(text2).toContain('admin token: LVSFLEET_ADMIN_TOKEN');
    const url2 = /serving on (http:\/\/\S+)/.exec(text2)![1];
    const sites = await cli(['get', 'sites', '-o', 'json'], { LVSFLEET_URL: url2, LVSFLEET_TOKEN: token });
    expect(JSON.parse(sites.out)).toEqual([expect.objectContaining({ name: 'bj-dc1', revision: 1, nodes: 4 })]);
    const viaEnv = await cli(['get', 'sites'], { LVSFLEET_URL: url2, LVSFLEET_TOKEN: 'lvf_from_env_0123456789abcdef' });
    expect(viaEnv.code).toBe(0);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);
  }, 180_000);

  it('exits 1 with a clear message when the HTTP port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const s = serve(['--port', String(port), '--mqtt-port', '0', '--data-dir', join(dir, 'taken')]);
      expect(await s.exit).toBe(1);
      expect(s.err()).toContain(`HTTP port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('exits 2 for a bad flag', async () => {
    const s = serve(['--port', 'eighty']);
    expect(await s.exit).toBe(2);
    expect(s.err()).toContain('--port must be a port number');
  }, 60_000);

  it('exits 2 for --publisher other than on/off, and for --publisher off on the embedded database', async () => {
    const bad = serve(['--publisher', 'maybe']);
    expect(await bad.exit).toBe(2);
    expect(bad.err()).toContain('--publisher must be on or off, not "maybe"');
    const alone = serve(['--publisher', 'off', '--data-dir', join(dir, 'alone')]);
    expect(await alone.exit).toBe(2);
    expect(alone.err()).toContain('--publisher off needs --database-url');
  }, 60_000);

  it('exits 2 for a --webhook-timeout that is not a duration from 1s to 60s', async () => {
    for (const bad of ['ten', '500ms']) {
      const s = serve(['--webhook-timeout', bad]);
      expect(await s.exit).toBe(2);
      expect(s.err()).toContain(`--webhook-timeout must be a duration from 1s to 60s, like 5s, not "${bad}"`);
    }
  }, 60_000);

  it('exits 2 for an --event-retention-days that is not a whole number of days', async () => {
    for (const bad of ['30d', '1.5', '36501']) {
      const s = serve(['--event-retention-days', bad]);
      expect(await s.exit).toBe(2);
      expect(s.err()).toContain(`--event-retention-days must be a whole number of days up to 36500, or 0 to keep every event; not "${bad}"`);
    }
  }, 60_000);

  // Needs a real PostgreSQL (DATABASE_URL) and the machine's broker (MQTT_URL): replicas share both.
  it.skipIf(!process.env.DATABASE_URL || !process.env.MQTT_URL)(
    'three replicas start together on one empty PostgreSQL; an apply through the API-only one is published once; a publisher killed with SIGKILL leaves the other publishing',
    async () => {
      const pg = await freshPostgres(process.env.DATABASE_URL!);
      // A site name of this run: the broker is shared with other tests.
      const name = runName('repl');
      const spec = join(dir, 'replicas.yaml');
      writeFileSync(spec, SEEDS_YAML.replace('name: bj-dc1', `name: ${name}`));
      const watcher = await connectAs(process.env.MQTT_URL!, undefined, undefined);
      const seen = collect(watcher);
      const nodes = ['dr1', 'dr2', 'rs1', 'rs2'];
      const desired = (node: string) => topics.desired(nodeIdOf(name, node));
      const revisions = (node: string): number[] => (seen.get(desired(node)) ?? []).map((p) => unverifiedClaims<{ revision: number }>(p).revision);
      try {
        await watcher.subscribeAsync(nodes.map(desired), { qos: 1 });
        const env = { LVSFLEET_DATABASE_URL: pg.url, LVSFLEET_MQTT_URL: process.env.MQTT_URL!, LVSFLEET_ADMIN_TOKEN: 'lvf_replicas_0123456789abcdef' };
        const replicas = ['on', 'on', 'off'].map((p, i) => serve(['--port', '0', '--data-dir', join(dir, `replica${i}`), '--publisher', p], env));
        const texts = await Promise.all(replicas.map(banner));
        expect(texts.map((t) => t.includes('publisher: off (API only)'))).toEqual([false, false, true]);
        const urls = texts.map((t) => /serving on (http:\/\/\S+)/.exec(t)![1]);
        // Each publisher drains on a connection of its own, named with its pid; the API-only replica has none.
        const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
        const names = await admin<{ name: string }[]>`
          SELECT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'lvsfleet-publisher %'`;
        await admin.end({ timeout: 5 });
        expect(names.map((r) => Number(/ pid (\d+)$/.exec(r.name)?.[1])).sort()).toEqual([replicas[0].child.pid, replicas[1].child.pid].sort());
        const as = (url: string) => ({ LVSFLEET_URL: url, LVSFLEET_TOKEN: env.LVSFLEET_ADMIN_TOKEN });
        expect((await cli(['apply', '-f', spec], as(urls[2]))).code).toBe(0);
        for (const url of urls)
          expect(JSON.parse((await cli(['get', 'sites', '-o', 'json'], as(url))).out)).toEqual([expect.objectContaining({ name, revision: 1 })]);
        // Published by one of the two publisher replicas, once per node.
        await waitFor(() => nodes.every((n) => revisions(n).length), { what: 'revision 1 on every node', timeoutMs: 15_000 });
        await new Promise((r) => setTimeout(r, 500));
        expect(nodes.map(revisions)).toEqual([[1], [1], [1], [1]]);

        // One publisher dies without a word; the other publishes the next apply.
        replicas[0].child.kill('SIGKILL');
        await replicas[0].exit;
        writeFileSync(spec, SEEDS_YAML.replace('name: bj-dc1', `name: ${name}`).replace('scheduler: wlc', 'scheduler: rr'));
        expect((await cli(['apply', '-f', spec], as(urls[2]))).code).toBe(0);
        await waitFor(() => revisions('dr1').at(-1) === 2 && revisions('dr2').at(-1) === 2, { what: 'revision 2 on the directors', timeoutMs: 15_000 });
        expect([revisions('dr1'), revisions('dr2')]).toEqual([
          [1, 2],
          [1, 2],
        ]);
        for (const r of replicas.slice(1)) r.child.kill('SIGTERM');
        expect(await Promise.all(replicas.slice(1).map((r) => r.exit))).toEqual([0, 0]);
      } finally {
        for (const n of nodes) await watcher.publishAsync(desired(n), '', { qos: 1, retain: true });
        await endQuietly(watcher);
        await pg.drop();
      }
    },
    180_000,
  );
});
