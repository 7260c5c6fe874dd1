import type { ResolvedService } from '#shared/config/node-config.ts';
import type { ResolvedCheck } from '#shared/config/node-config.ts';
import { TimerHeap } from './timer-heap.ts';
import type { ProbeOutcome, Transition } from './types.ts';
import { mulberry32Step } from '#shared/util/random.ts';

/** One real server of one service (keepalived: a real_server and its checker's is_up). */
export interface TargetState {
  key: string;
  service: string;
  address: string;
  port: number;
  /** Key of the shared probe, or null when the real server has no health check (always up). */
  probe: string | null;
  check: string;
  retries: number;
  up: boolean;
  weight: number | null;
  detail: string;
  /** keepalived's has_run: at least one attempt has finished. */
  hasRun: boolean;
  /** keepalived's retry_it: failed attempts so far while still up. */
  retryIt: number;
}

/** One probe, shared by every target with the same (type, address, port, params, timing). */
export interface ProbeState {
  key: string;
  check: ResolvedCheck;
  subscribers: Set<string>;
  /** Current heap generation: only the entry carrying it is live. */
  gen: number;
  /** Attempt id in flight, or null when idle. */
  inFlight: number | null;
}

export interface SchedulerState {
  targets: Map<string, TargetState>;
  probes: Map<string, ProbeState>;
  heap: TimerHeap;
  /** mulberry32 state, so warmup delays are random yet reproducible from the seed. */
  rng: number;
  lastAttempt: number;
  /** Bumped whenever any target's up/weight/detail or the target set changes (cheap state() caching). */
  version: number;
}

export type SchedulerEvent =
  { type: 'config'; services: ResolvedService[] } | { type: 'tick' } | { type: 'result'; probe: string; attempt: number; outcome: ProbeOutcome };

export type SchedulerAction =
  | { type: 'probe'; probe: string; attempt: number; check: ResolvedCheck }
  | { type: 'cancel'; probe: string; attempt: number }
  | { type: 'transition'; transition: Transition };

/** An empty scheduler; feed it a `config` event next. */
export function initialState(seed = 1): SchedulerState {
  return { targets: new Map(), probes: new Map(), heap: new TimerHeap(), rng: seed >>> 0, lastAttempt: 0, version: 0 };
}

/** Next pseudo-random number in [0, 1) (mulberry32), advancing `state.rng`. */
export function nextRandom(state: SchedulerState): number {
  const r = mulberry32Step(state.rng);
  state.rng = r.state;
  return r.value;
}

/** Puts the probe's next due time on the heap, superseding any earlier one. */
export function scheduleProbe(state: SchedulerState, probe: ProbeState, at: number): void {
  probe.gen += 1;
  state.heap.push({ at, probe: probe.key, gen: probe.gen });
}
