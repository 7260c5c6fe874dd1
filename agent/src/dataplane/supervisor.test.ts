import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { restartDelayMs, Supervisor, type HelperRestart, type SupervisorClock } from './supervisor.ts';

/** A clock whose time only moves when the test says so; timers fire in order. */
class FakeClock implements SupervisorClock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimer = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  pending = () => this.timers.map((x) => x.at - this.t);
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

/** Children that die when the test kills them. */
function fakeChildren(opts: { failStart?: () => boolean } = {}) {
  const live: { id: number; die(why: string): void }[] = [];
  let ids = 0;
  return {
    live,
    start(exited: (why: string) => void) {
      if (opts.failStart?.()) throw new Error('ENOENT');
      const c = { id: ++ids, die: (why: string) => (live.splice(live.indexOf(c), 1), exited(why)) };
      live.push(c);
      return c;
    },
    stop(c: { id: number }) {
      const i = live.findIndex((x) => x.id === c.id);
      if (i >= 0) live.splice(i, 1);
    },
  };
}

describe('restartDelayMs', () => {
  it('is immediate for a first restart, then exponential with equal jitter, capped', () => {
    expect(restartDelayMs(0, 0.99)).toBe(0);
    expect(restartDelayMs(1, 0)).toBe(50);
    expect(restartDelayMs(1, 0.999)).toBe(99);
    expect(restartDelayMs(3, 0)).toBe(200);
    expect(restartDelayMs(30, 0)).toBe(15_000);
    expect(restartDelayMs(30, 0.999)).toBeLessThan(30_000);
  });
});

describe('Supervisor (fake children, injected clock)', () => {
  const make = (children: ReturnType<typeof fakeChildren>, clock: FakeClock) => {
    const logs: string[] = [];
    const events: HelperRestart[] = [];
    const restarted: number[] = [];
    const sup = new Supervisor({
      name: 'helper',
      start: children.start,
      stop: children.stop,
      onRestart: (c) => restarted.push(c.id),
      log: (l) => logs.push(l),
      event: (e) => events.push(e),
      clock,
      random: () => 0,
    });
    return { sup, logs, events, restarted };
  };

  it('restarts a helper that was running fine at once, with a log line, an event and onRestart', () => {
    const clock = new FakeClock();
    const ch = fakeChildren();
    const { sup, logs, events, restarted } = make(ch, clock);
    expect(sup.ensure()?.id).toBe(1);
    expect(sup.health()).toMatchObject({ name: 'helper', state: 'running', restarts: 0, lastError: null });
    clock.advance(60_000);
    ch.live[0].die('exited (SIGKILL)');
    expect(sup.current()).toBeNull();
    expect(sup.health()).toMatchObject({ state: 'restarting', lastError: 'exited (SIGKILL)', since: clock.t });
    clock.advance(0);
    expect(sup.current()?.id).toBe(2);
    expect(restarted).toEqual([2]);
    expect(events).toEqual([{ name: 'helper', restarts: 1, error: 'exited (SIGKILL)', delayMs: 0 }]);
    expect(logs).toEqual(['helper: exited (SIGKILL); restarting in 0 ms', 'helper: restarted after exited (SIGKILL) (restart 1, waited 0 ms)']);
    expect(sup.health()).toMatchObject({ state: 'running', restarts: 1, lastError: 'exited (SIGKILL)' });
  });

  it('backs off a helper that keeps dying young, reports it failed, and forgets once it runs stably', () => {
    const clock = new FakeClock();
    const ch = fakeChildren();
    const { sup, events } = make(ch, clock);
    sup.ensure();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.advance(10);
      ch.live[0].die('exited (1)');
      delays.push(clock.pending()[0]);
      clock.advance(delays[i]);
    }
    expect(delays).toEqual([0, 50, 100, 200, 400, 800]);
    expect(events.map((e) => e.delayMs)).toEqual(delays);
    // Five quick deaths in a row: reported failed while it waits; running again once restarted.
    clock.advance(10);
    ch.live[0].die('exited (1)');
    expect(sup.health().state).toBe('failed');
    clock.advance(clock.pending()[0]);
    expect(sup.health().state).toBe('running');
    clock.advance(10_000);
    ch.live[0].die('exited (1)');
    expect(clock.pending()).toEqual([0]);
  });

  it('a start that throws is a death too: retried with back-off, never a crash', () => {
    const clock = new FakeClock();
    let failing = true;
    const ch = fakeChildren({ failStart: () => failing });
    const { sup } = make(ch, clock);
    expect(sup.ensure()).toBeNull();
    expect(sup.health()).toMatchObject({ state: 'restarting', lastError: 'start failed: ENOENT' });
    clock.advance(0);
    expect(clock.pending()).toEqual([50]);
    failing = false;
    clock.advance(50);
    expect(sup.current()?.id).toBe(1);
    // A start that threw is not counted as a restart: only instances that came up are.
    expect(sup.health()).toMatchObject({ state: 'running', restarts: 1 });
  });

  it('stop() ends the child and cancels a pending restart; ensure() starts again', () => {
    const clock = new FakeClock();
    const ch = fakeChildren();
    const { sup, events } = make(ch, clock);
    sup.ensure();
    clock.advance(10);
    ch.live[0].die('exited (1)');
    ch.start(() => {}); // unrelated child, to see stop() only touches its own
    sup.stop();
    clock.advance(60_000);
    expect(sup.current()).toBeNull();
    expect(ch.live.map((c) => c.id)).toEqual([2]);
    expect(events).toEqual([]);
    expect(sup.ensure()?.id).toBe(3);
    // A late exit of a stopped instance is ignored.
    sup.stop();
    expect(ch.live.map((c) => c.id)).toEqual([2]);
  });

  it('markAbsent reports a helper that cannot run here', () => {
    const clock = new FakeClock();
    const { sup } = make(fakeChildren(), clock);
    sup.markAbsent('no python3');
    expect(sup.health()).toMatchObject({ state: 'absent', lastError: 'no python3' });
  });
});

describe('Supervisor (real processes)', () => {
  it('restarts a killed `sleep` in its own process group, and stop() ends it', async () => {
    const events: HelperRestart[] = [];
    const sup = new Supervisor<ChildProcess>({
      name: 'sleeper',
      start(exited) {
        const c = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
        c.on('error', (e) => exited(e.message));
        c.on('exit', (code, signal) => exited(`exited (${signal ?? code})`));
        return c;
      },
      stop: (c) => c.kill(),
      event: (e) => events.push(e),
    });
    try {
      const first = sup.ensure()!;
      await new Promise((r) => first.once('spawn', r));
      process.kill(first.pid!, 'SIGKILL');
      const deadline = Date.now() + 5_000;
      while (!sup.current() || sup.current() === first) {
        if (Date.now() > deadline) throw new Error('not restarted');
        await new Promise((r) => setTimeout(r, 10));
      }
      const second = sup.current()!;
      expect(second.pid).not.toBe(first.pid);
      expect(events).toEqual([expect.objectContaining({ name: 'sleeper', restarts: 1, error: 'exited (SIGKILL)' })]);
      const gone = new Promise((r) => second.once('exit', r));
      sup.stop();
      await gone;
      await new Promise((r) => setTimeout(r, 50));
      expect(sup.current()).toBeNull();
      expect(events).toHaveLength(1);
    } finally {
      sup.stop();
    }
  });

  it('a command that does not exist is reported, retried, never thrown', async () => {
    const sup = new Supervisor<ChildProcess>({
      name: 'missing',
      start(exited) {
        const c = spawn('/nonexistent/lvsfleet-tool', [], { stdio: 'ignore', detached: true });
        c.on('error', (e) => exited(e.message));
        c.on('exit', (code) => exited(`exited (${code})`));
        return c;
      },
      stop: (c) => c.kill(),
    });
    try {
      sup.ensure();
      const deadline = Date.now() + 5_000;
      while (sup.health().restarts < 2) {
        if (Date.now() > deadline) throw new Error('not retried');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(sup.health().lastError).toMatch(/ENOENT/);
    } finally {
      sup.stop();
    }
  });
});
