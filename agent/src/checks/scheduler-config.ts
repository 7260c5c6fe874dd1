import type { ResolvedCheck, ResolvedService } from '#shared/config/node-config.ts';
import { healthKey } from '#shared/ipvs/desired.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nextRandom, scheduleProbe, type SchedulerAction, type SchedulerState, type TargetState } from './scheduler-state.ts';

/**
 * A check's probe key, its canonical JSON, kept per check object: configs are never changed in place,
 * and an unchanged real server comes back as the same object (the intake's checkClaimsInSteps), so
 * a director's apply writes the keys of the real servers that changed, not of all its 1,000.
 */
const probeKeys = new WeakMap<ResolvedCheck, string>();
function probeKeyOf(check: ResolvedCheck): string {
  let k = probeKeys.get(check);
  if (k === undefined) probeKeys.set(check, (k = canonicalJson(check)));
  return k;
}

/**
 * Applies a new service list. Targets whose probe is unchanged keep everything (keepalived keeps
 * the state of checkers that compare equal on reload); targets whose check changed keep their
 * up/down state and weight but restart the retry count; new targets start up, or down with
 * `alpha`. A probe is shared by every target whose check resolves to the same
 * (type, address, port, bindTo, params, timing), so it runs once and feeds all of them.
 */
export function applyConfig(state: SchedulerState, services: ResolvedService[], now: number): SchedulerAction[] {
  const actions: SchedulerAction[] = [];
  state.version += 1;
  const seen = new Set<string>();
  for (const svc of services) {
    for (const rs of svc.realServers) {
      const key = healthKey(svc.name, rs);
      seen.add(key);
      const check = rs.healthCheck;
      const probeKey = check ? probeKeyOf(check) : null;
      const old = state.targets.get(key);
      if (old && old.probe === probeKey) continue;
      if (old?.probe) unsubscribe(state, old, actions);
      const t: TargetState = old ?? {
        key,
        service: svc.name,
        address: rs.address,
        port: rs.port,
        probe: null,
        check: 'none',
        retries: 0,
        // keepalived: real servers start alive unless the virtual server has `alpha`.
        up: !(svc.alpha && check),
        weight: null,
        detail: check ? (svc.alpha ? 'alpha: down until the first successful check' : 'not checked yet') : 'no health check',
        hasRun: false,
        retryIt: 0,
      };
      t.probe = probeKey;
      t.retryIt = 0;
      t.check = check ? check.type : 'none';
      t.retries = check ? check.retries : 0;
      state.targets.set(key, t);
      if (!check) {
        t.weight = null;
        if (!t.up) {
          t.up = true;
          t.detail = 'health check removed';
          actions.push({
            type: 'transition',
            transition: { service: t.service, address: t.address, port: t.port, check: 'none', up: true, weight: null, detail: t.detail },
          });
        }
        continue;
      }
      let probe = state.probes.get(probeKey!);
      if (!probe) {
        probe = { key: probeKey!, check, subscribers: new Set(), gen: 0, inFlight: null };
        state.probes.set(probeKey!, probe);
        // warmup: a random delay in [0, warmup] before the first check spreads the load.
        const delay = check.warmupMs > 0 ? Math.floor(nextRandom(state) * (check.warmupMs + 1)) : 0;
        scheduleProbe(state, probe, now + delay);
      }
      probe.subscribers.add(key);
    }
  }
  for (const [key, t] of state.targets) {
    if (seen.has(key)) continue;
    if (t.probe) unsubscribe(state, t, actions);
    state.targets.delete(key);
  }
  return actions;
}

function unsubscribe(state: SchedulerState, t: TargetState, actions: SchedulerAction[]): void {
  const probe = state.probes.get(t.probe!);
  t.probe = null;
  if (!probe) return;
  probe.subscribers.delete(t.key);
  if (probe.subscribers.size > 0) return;
  if (probe.inFlight !== null) actions.push({ type: 'cancel', probe: probe.key, attempt: probe.inFlight });
  state.probes.delete(probe.key);
}
