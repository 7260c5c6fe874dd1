import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { NOT_ROOT, scriptFixture } from '../scripts/scripts.test-support.ts';
import { startHealthChecker, type HealthChecker } from './health-checker.ts';
import { checkersFor } from './run-check.ts';
import { check, service } from './scheduler-sim.test-support.ts';
import { targetKey, type Checker, type Transition } from './types.ts';

const fast = { intervalMs: 100, timeoutMs: 300, retries: 2, retryDelayMs: 40 };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function start(
  services: Parameters<typeof startHealthChecker>[0]['services'],
  checkers?: Record<string, Checker>,
): { hc: HealthChecker; transitions: (Transition & { at: number })[] } {
  const transitions: (Transition & { at: number })[] = [];
  const hc = startHealthChecker({ services, onTransition: (t) => transitions.push({ ...t, at: Date.now() }), seed: 3, checkers });
  cleanups.push(() => hc.stop());
  return { hc, transitions };
}

/** An HTTP server whose answer is decided per request; records request times and closed requests. */
async function httpServer(answer: (n: number) => number | 'hang'): Promise<{ port: number; hits: number[]; closed: number[] }> {
  const hits: number[] = [];
  const closed: number[] = [];
  const server = http.createServer((req, res) => {
    hits.push(Date.now());
    const n = hits.length;
    req.socket.on('close', () => closed.push(n));
    const a = answer(n);
    if (a !== 'hang') res.writeHead(a).end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, hits, closed };
}

const httpCheck = (over = {}) => check({ ...fast, type: 'http', params: { urls: [{ path: '/', expectStatus: ['200-299'] }] }, ...over });

describe('startHealthChecker with real timers and real servers', () => {
  it('TCP: up, down after the retries when the server stops, up again when it returns', async () => {
    const listen = (port = 0) =>
      new Promise<net.Server>((r) => {
        const s = net.createServer((c) => c.destroy());
        s.listen(port, '127.0.0.1', () => r(s));
      });
    let server = await listen();
    const port = (server.address() as AddressInfo).port;
    const { hc, transitions } = start([service('db', [port], check({ ...fast, port }))]);
    const key = targetKey('db', '127.0.0.1', port);
    await waitFor(() => hc.state().get(key)!.detail.startsWith('connected'));
    expect(hc.state().get(key)!.up).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    await waitFor(() => transitions.length === 1);
    expect(transitions[0]).toMatchObject({ service: 'db', port, check: 'tcp', up: false, weight: null, detail: 'connect ECONNREFUSED' });
    server = await listen(port);
    cleanups.push(() => server.close());
    await waitFor(() => transitions.length === 2);
    expect(transitions[1]).toMatchObject({ up: true, detail: `connected to 127.0.0.1:${port}` });
  });

  it('HTTP: goes down after exactly 1 + retries failed requests, retryDelay apart', async () => {
    const s = await httpServer((n) => (n <= 2 ? 200 : 503));
    const { transitions } = start([service('web', [s.port], httpCheck())]);
    await waitFor(() => transitions.length === 1);
    expect(transitions[0]).toMatchObject({ up: false, detail: 'HTTP 503 on /' });
    // requests 3, 4, 5 failed: the first failure and 2 retries; the transition came with the 5th
    expect(s.hits.length).toBe(5);
    expect(s.hits[3] - s.hits[2]).toBeGreaterThanOrEqual(40);
    expect(s.hits[2] - s.hits[1]).toBeGreaterThanOrEqual(100);
  });

  it('reports each finished attempt with its check type and duration (the metrics histogram)', async () => {
    const s = await httpServer(() => 200);
    const done: { type: string; seconds: number; hits: number }[] = [];
    const hc = startHealthChecker({
      services: [service('web', [s.port], httpCheck())],
      onTransition: () => {},
      onProbeDone: (type, seconds) => done.push({ type, seconds, hits: s.hits.length }),
      seed: 3,
    });
    cleanups.push(() => hc.stop());
    await waitFor(() => done.length >= 2);
    // One report per request answered, after it was answered.
    expect(done.slice(0, 2).map((d) => [d.type, d.hits])).toEqual([
      ['http', 1],
      ['http', 2],
    ]);
    for (const d of done) expect(d.seconds).toBeGreaterThan(0);
  });

  it('HTTP flapping: retries absorb single failures; with retries 0 every flap is a transition', async () => {
    const a = await httpServer((n) => (n % 2 === 0 ? 503 : 200));
    const b = await httpServer((n) => (n % 2 === 0 ? 503 : 200));
    const { transitions } = start([service('tolerant', [a.port], httpCheck({ retries: 1 })), service('strict', [b.port], httpCheck({ retries: 0 }))]);
    await waitFor(() => a.hits.length >= 8 && transitions.filter((t) => t.service === 'strict').length >= 4);
    expect(transitions.filter((t) => t.service === 'tolerant')).toEqual([]);
    const strict = transitions.filter((t) => t.service === 'strict').map((t) => t.up);
    expect(strict.slice(0, 4)).toEqual([false, true, false, true]);
  });

  it('times out on a server that accepts and never answers', async () => {
    const s = await httpServer(() => 'hang');
    const { transitions } = start([service('web', [s.port], httpCheck({ retries: 0, timeoutMs: 150 }))]);
    await waitFor(() => transitions.length === 1);
    expect(transitions[0]).toMatchObject({ up: false, detail: 'timeout after 150 ms' });
  });

  it('alpha starts down and comes up on the first success; no check means always up', async () => {
    const s = await httpServer(() => 200);
    const { hc, transitions } = start([service('web', [s.port], httpCheck(), { alpha: true }), service('plain', [1], null)]);
    expect(hc.state().get(targetKey('web', '127.0.0.1', s.port))).toMatchObject({ up: false });
    expect(hc.state().get(targetKey('plain', '127.0.0.1', 1))).toEqual({ up: true, weight: null, detail: 'no health check', checked: false });
    const before = hc.state();
    expect(hc.state()).toBe(before); // unchanged: the same view
    await waitFor(() => transitions.length === 1);
    expect(transitions[0]).toMatchObject({ service: 'web', up: true, detail: 'HTTP 200 on /' });
    expect(hc.state()).not.toBe(before);
    expect(hc.state().get(targetKey('web', '127.0.0.1', s.port))).toEqual({ up: true, weight: null, detail: 'HTTP 200 on /', checked: true });
  });

  it('shares one probe between two services with the same check', async () => {
    const s = await httpServer((n) => (n <= 3 ? 200 : 503));
    const hc1 = httpCheck({ retries: 0 });
    const { transitions } = start([service('a', [s.port], hc1), service('b', [s.port], hc1)]);
    await waitFor(() => transitions.length === 2);
    expect(transitions.map((t) => t.service).sort()).toEqual(['a', 'b']);
    expect(s.hits.length).toBe(4); // one request per round, not two
  });

  it.skipIf(NOT_ROOT)(`misc_dynamic: weight follows the exit code; update() keeps state (${NOT_ROOT ?? 'root'})`, async () => {
    const scripts = await scriptFixture();
    cleanups.push(() => scripts.cleanup());
    const code = join(scripts.out, 'code');
    writeFileSync(code, '7');
    const script = await scripts.write('code.sh', `exit $(cat ${code})`);
    const misc = check({ ...fast, type: 'misc', params: { command: script, dynamic: true } });
    const { hc, transitions } = start([service('app', [8080], misc)], checkersFor(scripts.launcher()));
    await waitFor(() => transitions.length === 1);
    expect(transitions[0]).toMatchObject({ up: true, weight: 5, detail: 'exit 7: weight 5' });
    writeFileSync(code, '1');
    await waitFor(() => transitions.length === 2);
    expect(transitions[1]).toMatchObject({ up: false, detail: 'exit 1' });
    hc.update([service('app', [8080], misc), service('other', [9], null)]);
    expect(hc.state().get(targetKey('app', '127.0.0.1', 8080))!.up).toBe(false);
    expect(hc.state().size).toBe(2);
    writeFileSync(code, '0');
    await waitFor(() => transitions.length === 3);
    expect(transitions[2]).toMatchObject({ up: true, weight: null });
  });

  it('stop() aborts an HTTP probe in flight: the request is closed instead of waiting for its timeout', async () => {
    const s = await httpServer(() => 'hang');
    // An hour's timeout: the probe can only end by stop()'s abort (else the test times out).
    const { hc } = start([service('web', [s.port], httpCheck({ timeoutMs: 3_600_000 }))]);
    await waitFor(() => s.hits.length === 1, { what: 'the first request' });
    await hc.stop();
    await waitFor(() => s.closed.includes(1), { what: 'the request closed by the aborted probe' });
    expect(s.hits).toHaveLength(1);
  });

  it('rejects invalid services with the field path', () => {
    const bad = [{ ...service('x', [1], null), realServers: [{ address: 'nope' }] }];
    expect(() => startHealthChecker({ services: bad as never, onTransition: () => {} })).toThrow(/invalid services: 0\.realServers\.0/);
  });

  it('checks each service object once: an object it took passes again unchecked, any other is checked, equal or not', () => {
    const good = service('web', [80], null);
    const { hc } = start([good]);
    // Changed in place after it was taken (configs never are): the object is known, so it passes
    // unchecked, which shows the check is passed over; an equal copy of it is checked and refused.
    (good.realServers[0] as { address: string }).address = 'nope';
    expect(() => hc.update([good])).not.toThrow();
    expect(() => hc.update([structuredClone(good)])).toThrow(/invalid services: 0\.realServers\.0\.address/);
    expect(() => hc.update([service('web', [80], null), { ...good, realServers: [] }, 'nope'] as never)).toThrow(/invalid services: 2: /);
  });

  it("checks a changed service's real servers it has not taken before, and passes over those it has", () => {
    const good = service('web', [80, 81], null);
    const { hc } = start([good]);
    const [taken, other] = good.realServers;
    (taken as { address: string }).address = 'nope';
    // A new service object (its port changed) holding the taken real server: passes.
    expect(() => hc.update([{ ...good, port: 8080 }])).not.toThrow();
    // Its equal copy is not one taken before: checked, and refused at its place.
    expect(() => hc.update([{ ...good, port: 8081, realServers: [other, structuredClone(taken)] }])).toThrow(/invalid services: 0\.realServers\.1\.address/);
  });
});

describe('startHealthChecker with an injected clock', () => {
  it('stop() aborts probes in flight and nothing is scheduled afterwards ', async () => {
    vi.useFakeTimers();
    cleanups.push(() => vi.useRealTimers());
    const probes: AbortSignal[] = [];
    // Answers only when aborted, like a server that accepted and went silent.
    const silent: Checker = (_c, signal) =>
      new Promise((resolve) => {
        probes.push(signal);
        signal.addEventListener('abort', () => resolve({ ok: false, detail: 'aborted' }));
      });
    const hc = startHealthChecker({
      services: [service('web', [80], check({ ...fast, type: 'http', timeoutMs: 60_000 }))],
      onTransition: () => {},
      now: () => Date.now(),
      checkers: { http: silent },
      seed: 3,
    });
    cleanups.push(() => hc.stop());
    await vi.advanceTimersByTimeAsync(fast.intervalMs);
    expect(probes).toHaveLength(1);
    await hc.stop();
    expect(probes[0].aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(probes).toHaveLength(1);
  });
});
