import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../main.ts';
import { memoryIO } from '../test-io.test-support.ts';
import { SEEDS_PATH } from '../../../test/fixtures.test-support.ts';
import { freshPostgres } from '../../../test/pg.test-support.ts';

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

  // Needs a real PostgreSQL (DATABASE_URL): replicas share one database server.
  it.skipIf(!process.env.DATABASE_URL)(
    'three replicas start together on one empty PostgreSQL: all serve, two of them API-only',
    async () => {
      const pg = await freshPostgres(process.env.DATABASE_URL!);
      try {
        const env = { LVSFLEET_DATABASE_URL: pg.url, LVSFLEET_ADMIN_TOKEN: 'lvf_replicas_0123456789abcdef' };
        const replicas = ['on', 'off', 'off'].map((p, i) =>
          serve(['--port', '0', '--mqtt-port', '0', '--data-dir', join(dir, `replica${i}`), '--publisher', p], env),
        );
        const texts = await Promise.all(replicas.map(banner));
        expect(texts.map((t) => t.includes('publisher: off (API only)'))).toEqual([false, true, true]);
        const urls = texts.map((t) => /serving on (http:\/\/\S+)/.exec(t)![1]);
        // An apply through an API-only replica is seen through every other one.
        expect((await cli(['apply', '-f', SEEDS_PATH], { LVSFLEET_URL: urls[1], LVSFLEET_TOKEN: env.LVSFLEET_ADMIN_TOKEN })).code).toBe(0);
        for (const url of urls) {
          const sites = await cli(['get', 'sites', '-o', 'json'], { LVSFLEET_URL: url, LVSFLEET_TOKEN: env.LVSFLEET_ADMIN_TOKEN });
          expect(JSON.parse(sites.out)).toEqual([expect.objectContaining({ name: 'bj-dc1', revision: 1 })]);
        }
        for (const r of replicas) r.child.kill('SIGTERM');
        expect(await Promise.all(replicas.map((r) => r.exit))).toEqual([0, 0, 0]);
      } finally {
        await pg.drop();
      }
    },
    180_000,
  );
});
