import type { ResolvedCheck, ResolvedService } from '#shared/config/node-config.ts';
import { initialState, nextWakeAt, step, type SchedulerAction, type SchedulerState } from './scheduler.ts';
import type { ProbeOutcome, Transition } from './types.ts';

/** A check with test-friendly timing; override what a test cares about. */
export function check(over: Partial<ResolvedCheck> = {}): ResolvedCheck {
  return {
    type: 'tcp',
    intervalMs: 5000,
    timeoutMs: 1000,
    retries: 3,
    retryDelayMs: 1000,
    warmupMs: 0,
    address: '127.0.0.1',
    port: 80,
    bindTo: null,
    params: {},
    ...over,
  };
}

/** A service whose real servers all use `hc` (null: no check), probing each at its own port. */
export function service(name: string, ports: number[], hc: ResolvedCheck | null, over: Partial<ResolvedService> = {}): ResolvedService {
  return {
    name,
    protocol: 'tcp',
    vip: '10.0.0.1',
    port: 80,
    fwmark: 0,
    scheduler: 'wlc',
    schedulerFlags: [],
    persistence: null,
    onePacket: false,
    sorryServer: null,
    quorum: 1,
    hysteresis: 0,
    quorumUp: null,
    quorumDown: null,
    alpha: false,
    omega: false,
    realServers: ports.map((port) => ({
      node: null,
      address: '127.0.0.1',
      port,
      weight: 1,
      forwarding: 'dr',
      inhibitOnFailure: false,
      upperThreshold: 0,
      lowerThreshold: 0,
      healthCheck: hc ? { ...hc, port } : null,
      notifyUp: null,
      notifyDown: null,
    })),
    ...over,
  };
}

/**
 * A virtual-clock world: probes complete after `latencyMs` with whatever `world(check, now)`
 * says. Records every probe start and every transition with its time.
 */
export class Sim {
  now = 0;
  state: SchedulerState;
  probes: { at: number; port: number; attempt: number }[] = [];
  transitions: (Transition & { at: number })[] = [];
  cancels: number[] = [];
  /** Attempts that never report (to exercise the scheduler's own deadline). */
  silent = false;
  private pending: { at: number; probe: string; attempt: number; outcome: ProbeOutcome }[] = [];

  constructor(
    services: ResolvedService[],
    private world: (port: number, now: number) => ProbeOutcome,
    private latencyMs = 0,
    seed = 1,
  ) {
    this.state = initialState(seed);
    this.apply(step(this.state, { type: 'config', services }, 0).actions);
  }

  update(services: ResolvedService[]): void {
    this.apply(step(this.state, { type: 'config', services }, this.now).actions);
  }

  /** Advances the virtual clock to `until`, delivering ticks and results in time order. */
  run(until: number): void {
    for (;;) {
      const wake = nextWakeAt(this.state);
      const res = this.pending.reduce<number | null>((m, p) => (m === null || p.at < m ? p.at : m), null);
      const next = Math.min(wake ?? Infinity, res ?? Infinity);
      if (next > until) break;
      this.now = next;
      if (res !== null && res <= next) {
        const i = this.pending.findIndex((p) => p.at === res);
        const [p] = this.pending.splice(i, 1);
        this.apply(step(this.state, { type: 'result', probe: p.probe, attempt: p.attempt, outcome: p.outcome }, this.now).actions);
      } else {
        this.apply(step(this.state, { type: 'tick' }, this.now).actions);
      }
    }
    this.now = until;
  }

  private apply(actions: SchedulerAction[]): void {
    for (const a of actions) {
      if (a.type === 'probe') {
        this.probes.push({ at: this.now, port: a.check.port, attempt: a.attempt });
        if (!this.silent) this.pending.push({ at: this.now + this.latencyMs, probe: a.probe, attempt: a.attempt, outcome: this.world(a.check.port, this.now) });
      } else if (a.type === 'transition') this.transitions.push({ ...a.transition, at: this.now });
      else this.cancels.push(a.attempt);
    }
  }
}

export const OK: ProbeOutcome = { ok: true, detail: 'connected' };
export const FAIL: ProbeOutcome = { ok: false, detail: 'connect ECONNREFUSED' };
