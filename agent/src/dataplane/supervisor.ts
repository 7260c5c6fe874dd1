/**
 * Supervision of the agent's long-lived helper processes (GARP helper, `ip -batch`, `ip monitor`)
 * and of retried one-shot controls (the IPVS sync daemon). A helper that dies is restarted, with a
 * jittered exponential back-off when it keeps dying, and every restart is logged and reported as
 * an event, so a dead helper is never noticed first at the next failover. keepalived does the same
 * work in-process (netlink, its own ARP socket); we get there by never leaving a child unwatched.
 *
 * The supervisor only decides when to (re)start and what to report; the caller's `start` spawns
 * the real process and calls `exited(why)` once when it ends. The clock and randomness are
 * injected, so the policy is tested without processes or waiting.
 */

export type HelperState = 'running' | 'restarting' | 'failed' | 'absent';

/** What the status document shows per helper. `since`: epoch ms of the last state change. */
export interface HelperHealth {
  name: string;
  state: HelperState;
  restarts: number;
  lastError: string | null;
  since: number;
}

/** One restart, for the `agent.helper_restarted` event. */
export interface HelperRestart {
  name: string;
  restarts: number;
  /** Why the previous instance ended. */
  error: string;
  /** How long the supervisor waited before this start. */
  delayMs: number;
}

export interface SupervisorClock {
  /** Epoch milliseconds (for `since` and for how long a child ran). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

const realClock: SupervisorClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending restart must not keep a stopping agent alive.
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Delay before restart number `attempt` of a helper that keeps dying (attempt 0 = it had been
 * running fine: restart at once, a failover may be waiting for it). Then exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (half fixed, half random) so helpers that died
 * together do not restart in lockstep. `random` in [0, 1).
 * Local on purpose: a shared back-off for shared/util is being written separately; this one is
 * small enough to fold into it when it lands.
 */
export function restartDelayMs(attempt: number, random: number, baseMs = 100, maxMs = 30_000): number {
  if (attempt <= 0) return 0;
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(cap / 2 + (random * cap) / 2);
}

export interface SupervisorOptions<C> {
  name: string;
  /** Spawns one instance; must call `exited` exactly once when it ends (repeated calls are ignored). Throwing counts as a failed start. */
  start(exited: (why: string) => void): C;
  /** Ends one instance (its process group); `exited` may or may not follow. */
  stop(child: C): void;
  /** Called after every start but the first (e.g. re-read state missed while down). */
  onRestart?(child: C): void;
  log?(line: string): void;
  event?(e: HelperRestart): void;
  clock?: SupervisorClock;
  random?: () => number;
  baseMs?: number;
  maxMs?: number;
  /** A child that ran this long before dying counts as healthy: the next restart is immediate. */
  stableMs?: number;
  /** After this many quick deaths in a row the helper is reported `failed` (it is still retried at `maxMs`). */
  failAfter?: number;
}

/**
 * Keeps one helper running: `ensure()` starts it, a death schedules a restart, `stop()` ends it for
 * good (until the next `ensure()`). `current()` is the live instance or null while it is down, so
 * callers use their fallback for that one operation instead of waiting.
 */
export class Supervisor<C> {
  private child: C | null = null;
  private gen = 0;
  private timer: unknown = null;
  private startedAt = 0;
  /** Deaths in a row of instances that ran less than `stableMs`. */
  private quickDeaths = 0;
  private stopped = true;
  private h: HelperHealth;
  private readonly clock: SupervisorClock;

  constructor(private o: SupervisorOptions<C>) {
    this.clock = o.clock ?? realClock;
    this.h = { name: o.name, state: 'restarting', restarts: 0, lastError: null, since: this.clock.now() };
  }

  /** The running instance, or null (not started, restarting, failed). */
  current(): C | null {
    return this.child;
  }

  health(): HelperHealth {
    return { ...this.h };
  }

  /** Starts the helper unless it is running or a restart is already scheduled. */
  ensure(): C | null {
    this.stopped = false;
    if (!this.child && this.timer === null) this.spawn(0, null);
    return this.child;
  }

  /** Marks the helper as impossible here (tool missing); `ensure()` will still try again. */
  markAbsent(why: string): void {
    this.set('absent', why);
  }

  stop(): void {
    this.stopped = true;
    this.gen++;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    const c = this.child;
    this.child = null;
    if (c !== null) this.o.stop(c);
  }

  private set(state: HelperState, error: string | null): void {
    if (state !== this.h.state) this.h = { ...this.h, state, since: this.clock.now() };
    if (error !== null) this.h = { ...this.h, lastError: error };
  }

  private spawn(delayMs: number, previousError: string | null): void {
    const gen = ++this.gen;
    const restart = previousError !== null;
    this.startedAt = this.clock.now();
    let c: C;
    try {
      c = this.o.start((why) => this.exited(gen, why));
    } catch (e) {
      return this.exited(gen, `start failed: ${(e as Error).message}`);
    }
    if (gen !== this.gen) return; // exited synchronously inside start(): already handled
    this.child = c;
    this.set('running', null);
    if (!restart) return;
    this.h = { ...this.h, restarts: this.h.restarts + 1 };
    this.o.log?.(`${this.o.name}: restarted after ${previousError} (restart ${this.h.restarts}, waited ${delayMs} ms)`);
    this.o.event?.({ name: this.o.name, restarts: this.h.restarts, error: previousError, delayMs });
    this.o.onRestart?.(c);
  }

  private exited(gen: number, why: string): void {
    if (gen !== this.gen) return;
    this.gen++;
    this.child = null;
    if (this.stopped) return;
    const stable = this.clock.now() - this.startedAt >= (this.o.stableMs ?? 10_000);
    this.quickDeaths = stable ? 0 : this.quickDeaths + 1;
    // The first death of a streak restarts at once (a failover may be waiting for the helper);
    // a helper that keeps dying young backs off.
    const attempt = stable ? 0 : this.quickDeaths - 1;
    const delay = restartDelayMs(attempt, (this.o.random ?? Math.random)(), this.o.baseMs, this.o.maxMs);
    const failed = this.quickDeaths >= (this.o.failAfter ?? 5);
    if (this.h.state !== 'absent') this.set(failed ? 'failed' : 'restarting', why);
    else this.h = { ...this.h, lastError: why };
    this.o.log?.(`${this.o.name}: ${why}; restarting in ${delay} ms`);
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      if (!this.stopped) this.spawn(delay, why);
    }, delay);
  }
}
