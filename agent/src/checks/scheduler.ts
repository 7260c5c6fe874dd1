import { applyConfig } from './scheduler-config.ts';
import { scheduleProbe, type ProbeState, type SchedulerAction, type SchedulerEvent, type SchedulerState, type TargetState } from './scheduler-state.ts';
import type { ProbeOutcome } from './types.ts';

export { initialState } from './scheduler-state.ts';
export type { SchedulerAction, SchedulerEvent, SchedulerState } from './scheduler-state.ts';

/**
 * If a checker never reports (a bug, not a slow server: checkers abort at connect_timeout), the
 * scheduler itself fails the attempt this long after the timeout, so a target cannot hang.
 */
export const DEADLINE_GRACE_MS = 1000;

/**
 * The health-check scheduler: a deterministic function of (state, event, now). It mutates and
 * returns `state` (the state is owned by whoever calls step; thousands of probes make copying
 * each step too costly) and does no I/O: the driver turns `probe` actions into checker calls and
 * feeds their outcomes back as `result` events; `tick` starts whatever is due at `now`.
 */
export function step(state: SchedulerState, event: SchedulerEvent, now: number): { state: SchedulerState; actions: SchedulerAction[] } {
  switch (event.type) {
    case 'config':
      return { state, actions: applyConfig(state, event.services, now) };
    case 'tick':
      return { state, actions: tick(state, now) };
    case 'result': {
      const probe = state.probes.get(event.probe);
      // A result for a removed probe or a superseded attempt changes nothing.
      if (!probe || probe.inFlight !== event.attempt) return { state, actions: [] };
      return { state, actions: finish(state, probe, event.outcome, now) };
    }
  }
}

/** When the driver should next send `tick` (null: nothing scheduled). Drops stale heap entries. */
export function nextWakeAt(state: SchedulerState): number | null {
  for (;;) {
    const top = state.heap.peek();
    if (!top) return null;
    const probe = state.probes.get(top.probe);
    if (probe && probe.gen === top.gen) return top.at;
    state.heap.pop();
  }
}

function tick(state: SchedulerState, now: number): SchedulerAction[] {
  const actions: SchedulerAction[] = [];
  for (;;) {
    const at = nextWakeAt(state);
    if (at === null || at > now) break;
    const entry = state.heap.pop()!;
    const probe = state.probes.get(entry.probe)!;
    if (probe.inFlight !== null) {
      // The deadline of an attempt whose checker never answered.
      actions.push({ type: 'cancel', probe: probe.key, attempt: probe.inFlight });
      const detail = `timeout after ${probe.check.timeoutMs} ms (no result from the checker)`;
      actions.push(...finish(state, probe, { ok: false, detail }, now));
      continue;
    }
    probe.inFlight = ++state.lastAttempt;
    scheduleProbe(state, probe, now + probe.check.timeoutMs + DEADLINE_GRACE_MS);
    actions.push({ type: 'probe', probe: probe.key, attempt: probe.inFlight, check: probe.check });
  }
  return actions;
}

function finish(state: SchedulerState, probe: ProbeState, outcome: ProbeOutcome, now: number): SchedulerAction[] {
  probe.inFlight = null;
  const actions: SchedulerAction[] = [];
  let delay = Infinity;
  for (const key of probe.subscribers) {
    const t = state.targets.get(key)!;
    const before = `${t.up}|${t.weight}|${t.detail}|${t.hasRun}`;
    const r = judge(t, outcome, probe);
    if (`${t.up}|${t.weight}|${t.detail}|${t.hasRun}` !== before) state.version += 1;
    delay = Math.min(delay, r.delay);
    if (r.changed) {
      actions.push({
        type: 'transition',
        transition: { service: t.service, address: t.address, port: t.port, check: t.check, up: t.up, weight: t.weight, detail: t.detail },
      });
    }
  }
  scheduleProbe(state, probe, now + (Number.isFinite(delay) ? delay : probe.check.intervalMs));
  return actions;
}

/**
 * keepalived's epilog for one checker: success → up (at once), retry_it = 0, next in delay_loop;
 * failure while up → retry after delay_before_retry until `retry` retries have failed too, then
 * down and back to delay_loop; failure while down → stay down, next in delay_loop.
 */
function judge(t: TargetState, outcome: ProbeOutcome, probe: ProbeState): { changed: boolean; delay: number } {
  const { intervalMs, retryDelayMs } = probe.check;
  t.hasRun = true;
  if (outcome.ok) {
    t.retryIt = 0;
    const weight = outcome.weight ?? null;
    const changed = !t.up || weight !== t.weight;
    t.up = true;
    t.weight = weight;
    t.detail = outcome.detail;
    return { changed, delay: intervalMs };
  }
  if (t.up && t.retryIt < t.retries) {
    t.retryIt += 1;
    t.detail = `${outcome.detail} (retry ${t.retryIt} of ${t.retries})`;
    return { changed: false, delay: retryDelayMs };
  }
  const changed = t.up;
  t.retryIt = 0;
  t.up = false;
  t.detail = outcome.detail;
  return { changed, delay: intervalMs };
}
