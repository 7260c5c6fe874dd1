import { performance } from 'node:perf_hooks';
import { checkServiceInParts } from '#shared/config/check-service.ts';
import type { ResolvedService } from '#shared/config/node-config.ts';
import { openFileLimit } from './fd-limit.ts';
import { runCheck } from './run-check.ts';
import { initialState, nextWakeAt, step, type SchedulerAction, type SchedulerEvent } from './scheduler.ts';
import { CheckError, type Checker, type TargetHealth, type Transition } from './types.ts';

export interface HealthCheckerOptions {
  services: ResolvedService[];
  /** Called for every up/down change (and dynamic weight change while up). */
  onTransition(t: Transition): void;
  log?: (line: string) => void;
  /** Called when a probe attempt finishes (not when cancelled), with its check type and duration. */
  onProbeDone?(type: string, seconds: number): void;
  /** Test seams: a monotonic clock in ms, other checkers, the warmup PRNG seed. */
  now?: () => number;
  checkers?: Record<string, Checker>;
  seed?: number;
}

export interface HealthChecker {
  update(services: ResolvedService[]): void;
  /**
   * `${service}|${address}:${port}` → health; real servers without a check are always up. The
   * map is shared until the next change (cheap to call per real server): treat it as read-only.
   */
  state(): Map<string, TargetHealth>;
  /** Stops scheduling, aborts probes in flight and waits for them to wind down. */
  stop(): Promise<void>;
}

/**
 * The services, each checked by the schema unless this very object was before (`checked`), and in
 * a service that was not, each real server likewise: configs are never changed in place, and the
 * intake hands an unchanged service or real server over as the object it accepted last
 * (checkClaimsInSteps). A director's 1,000 real servers took 6 ms to check at every apply. The
 * schema answers its input (shared/wire/schemas.test.ts), so the input is what is kept.
 */
function validate(services: unknown, checked: WeakSet<object>): ResolvedService[] {
  if (!Array.isArray(services)) throw new CheckError('BAD_PARAMS', 'invalid services: not a list');
  const taken = (o: unknown): o is object => o !== null && typeof o === 'object' && checked.has(o);
  for (const [n, s] of services.entries()) {
    if (taken(s)) continue;
    // A changed service: its real servers this checker took before are not checked again.
    const r = checkServiceInParts(s, (rs) => (taken(rs) ? (rs as ResolvedService['realServers'][number]) : undefined));
    if (!r.success) {
      const i = r.error.issues[0];
      throw new CheckError('BAD_PARAMS', `invalid services: ${[n, ...i.path].join('.')}: ${i.message}`);
    }
    checked.add(s as object);
    for (const rs of (s as ResolvedService).realServers) checked.add(rs);
  }
  return services as ResolvedService[];
}

/**
 * Runs the health checks of `services`: the only place with real timers. It feeds the pure
 * scheduler (step) with ticks when something is due and with checker outcomes, runs the probes
 * it asks for (each aborted at connect_timeout) and reports transitions. Initial states (up, or
 * down with alpha) are visible in state() at once; they are not reported as transitions.
 */
export function startHealthChecker(opts: HealthCheckerOptions): HealthChecker {
  const now = opts.now ?? (() => performance.now());
  const log = opts.log ?? (() => {});
  const sched = initialState(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  const inFlight = new Map<string, { attempt: number; abort: AbortController; done: Promise<void> }>();
  let timer: NodeJS.Timeout | null = null;
  let timerAt = Infinity;
  let stopped = false;
  let view = { version: -1, map: new Map<string, TargetHealth>() };
  const checked = new WeakSet<object>();

  const dispatch = (event: SchedulerEvent) => {
    if (stopped) return;
    perform(step(sched, event, now()).actions);
    arm();
  };

  const arm = () => {
    const at = nextWakeAt(sched);
    if (at === null || stopped) {
      if (timer) clearTimeout(timer);
      timer = null;
      timerAt = Infinity;
      return;
    }
    if (timer && at >= timerAt) return; // the armed timer fires first; tick re-arms
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(
      () => {
        timer = null;
        timerAt = Infinity;
        dispatch({ type: 'tick' });
      },
      Math.max(0, Math.ceil(at - now())),
    );
  };

  const perform = (actions: SchedulerAction[]) => {
    for (const a of actions) {
      if (a.type === 'probe') {
        const abort = new AbortController();
        // setImmediate: after a stalled loop the timers phase runs before the poll phase, so an
        // answer already waiting in the socket would lose to its own timeout; let I/O go first.
        const t = setTimeout(() => setImmediate(() => abort.abort()), a.check.timeoutMs);
        const startedAt = now();
        const done = runCheck(a.check, abort.signal, opts.checkers).then((outcome) => {
          clearTimeout(t);
          const cur = inFlight.get(a.probe);
          if (cur?.attempt === a.attempt) {
            inFlight.delete(a.probe);
            opts.onProbeDone?.(a.check.type, (now() - startedAt) / 1000);
          }
          dispatch({ type: 'result', probe: a.probe, attempt: a.attempt, outcome });
        });
        inFlight.set(a.probe, { attempt: a.attempt, abort, done });
      } else if (a.type === 'cancel') {
        const cur = inFlight.get(a.probe);
        if (cur?.attempt === a.attempt) {
          cur.abort.abort();
          inFlight.delete(a.probe);
        }
      } else {
        try {
          opts.onTransition(a.transition);
        } catch (err) {
          log(`onTransition failed: ${(err as Error).message}`);
        }
      }
    }
  };

  const fdLimit = openFileLimit();
  const configure = (services: ResolvedService[]) => {
    dispatch({ type: 'config', services: validate(services, checked) });
    // Probes that come due together each hold a descriptor; say so before EMFILE does.
    if (fdLimit !== null && sched.probes.size > fdLimit / 2) {
      log(`warning: ${sched.probes.size} health-check probes with an open-file limit of ${fdLimit}; raise LimitNOFILE or use warmup to spread them`);
    }
  };
  configure(opts.services);

  return {
    update(services) {
      configure(services);
    },
    state() {
      // Callers may ask once per real server; rebuild only when something changed.
      if (view.version !== sched.version) {
        const map = new Map<string, TargetHealth>();
        for (const [key, t] of sched.targets) map.set(key, Object.freeze({ up: t.up, weight: t.weight, detail: t.detail, checked: t.hasRun }));
        view = { version: sched.version, map };
      }
      return view.map;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const pending = [...inFlight.values()];
      for (const p of pending) p.abort.abort();
      inFlight.clear();
      await Promise.allSettled(pending.map((p) => p.done));
    },
  };
}
