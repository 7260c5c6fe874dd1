import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The kernel lab's C parts on this host's loopback, built as build-initramfs.sh builds them: the
 * real server (rs.c) and the client's request loop (loop.c), against each other and against
 * servers that misbehave on purpose.
 */
const cc = spawnSync('cc', ['--version']).status === 0;
const reason = cc ? null : 'no C compiler (apt-get install gcc libc6-dev; CI installs it)';
if (reason) console.log(`skipping the kernel lab's C parts: ${reason}`);

const dir = mkdtempSync(join(tmpdir(), 'lab-c-'));
const here = import.meta.dirname;
const started: ChildProcessWithoutNullStreams[] = [];

/** A process whose stdout is read line by line. */
function run(bin: string, args: string[]) {
  const p = spawn(join(dir, bin), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  started.push(p);
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: p.stdout }).on('line', (l) => (waiters.length ? waiters.shift()!(l) : lines.push(l)));
  const line = () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((r) => waiters.push(r)));
  return { p, line };
}

/** Ports picked from the pid, away from the ranges other tests here use. */
const base = 20000 + (process.pid % 2000) * 6;
const [HTTP_A, HTTP_B, SILENT, SHORT, ECHO, CLOSED] = [base, base + 1, base + 2, base + 3, base + 4, base + 5];

async function get(port: number, path: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`));
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

describe.skipIf(reason !== null)("the kernel lab's C real server and request loop", () => {
  const servers: Server[] = [];
  let rs: ReturnType<typeof run>;

  beforeAll(async () => {
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-static', '-o', join(dir, 'lab-rs-server'), join(here, 'rs.c')]);
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-static', '-pthread', '-o', join(dir, 'lab-loop'), join(here, 'loop.c')]);
    rs = run('lab-rs-server', ['rsT', '--echo', String(ECHO), String(HTTP_A), String(HTTP_B)]);
    expect(await rs.line()).toBe(`rsT listening on ${HTTP_A},${HTTP_B} and ${ECHO}`);
    // Accepts and never answers; answers a body shorter than its content-length.
    servers.push(createServer(() => {}).listen(SILENT, '127.0.0.1'));
    servers.push(createServer((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort')).listen(SHORT, '127.0.0.1'));
  }, 60_000);
  afterAll(() => {
    for (const p of started) p.kill('SIGKILL');
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the real server answers its name, /big, 400 for a bad request line, counts per local address, echoes on its echo port', async () => {
    const plain = await get(HTTP_A, '/');
    expect(plain).toBe(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nx-server: rsT\r\nconnection: close\r\n\r\nrsT\n`);
    const big = await get(HTTP_B, '/big?n=3000000', '::1');
    expect(big.length - big.indexOf('\r\n\r\n') - 4).toBe(3_000_000);
    expect(big).toMatch(/content-length: 3000000\r\n/);
    const bad = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: HTTP_A }, () => s.write('get / HTTP/1.1\r\n\r\n'));
      let t = '';
      s.on('data', (d) => (t += d));
      s.on('end', () => resolve(t));
    });
    expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const count = await get(HTTP_A, '/count');
    expect(JSON.parse(count.slice(count.indexOf('\r\n\r\n') + 4))).toEqual({ [`::ffff:127.0.0.1:${HTTP_A}`]: 1, [`::1:${HTTP_B}`]: 1 });
    const echoed = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: ECHO }, () => s.write('one\ntwo\n'));
      let t = '';
      s.on('data', (d) => {
        t += d;
        if (t.split('\n').length <= 2) return;
        s.end();
        resolve(t);
      });
    });
    expect(echoed).toBe('rsT one\nrsT two\n');
  });

  it('the loop counts answers per server, marks, and stops with the whole result', async () => {
    const loop = run('lab-loop', ['127.0.0.1', String(HTTP_A), `127.0.0.1:${HTTP_A}`, '/', '127.0.0.1', '2', '500', '0']);
    expect(JSON.parse(await loop.line())).toEqual({ ready: true });
    await new Promise((r) => setTimeout(r, 300));
    loop.p.stdin.write('m\n');
    const mark = JSON.parse(await loop.line());
    expect(mark.ok).toBeGreaterThan(0);
    expect(mark).toEqual({ ok: mark.ok, fail: 0, sinceMark: { rsT: mark.ok } });
    await new Promise((r) => setTimeout(r, 200));
    loop.p.stdin.write('s\n');
    const end = JSON.parse(await loop.line());
    expect(end).toMatchObject({ fail: 0, servers: { rsT: end.ok }, sinceMark: { rsT: end.ok - mark.ok }, errors: [] });
    expect(end.ok).toBeGreaterThan(mark.ok);
    expect(Math.abs(end.ratePerS - end.ok / end.seconds) / end.ratePerS).toBeLessThan(0.01); // seconds are printed to the ms
    expect(await new Promise((r) => loop.p.on('exit', r))).toBe(0);
  });

  it('the loop says why a request failed, with the client port: refused, timeout, short body', async () => {
    const cases: [number, RegExp][] = [
      [CLOSED, /^\S+Z connect ECONNREFUSED \((port \d+|not connected)\)$/],
      [SILENT, /^\S+Z timeout \(port \d+\)$/],
      [SHORT, /^\S+Z body of 5 bytes, content-length 10 \(port \d+\)$/],
    ];
    for (const [port, why] of cases) {
      const loop = run('lab-loop', ['127.0.0.1', String(port), 'x', '/', '-', '1', '200', '50']);
      expect(JSON.parse(await loop.line())).toEqual({ ready: true });
      await new Promise((r) => setTimeout(r, 300));
      loop.p.stdin.write('s\n');
      const end = JSON.parse(await loop.line());
      expect(end.ok).toBe(0);
      expect(end.fail).toBeGreaterThan(0);
      expect(end.errors.length).toBe(Math.min(end.fail, 5));
      for (const e of end.errors) expect(e).toMatch(why);
      expect(end.longestGapMs).toBeGreaterThanOrEqual(250);
    }
  });

  it('the loop refuses bad arguments with exit 2', () => {
    const r = spawnSync(join(dir, 'lab-loop'), ['1.2.3', '80', 'x', '/', '-', '1', '500', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bad address 1.2.3');
  });
});
