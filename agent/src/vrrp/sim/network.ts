import { checkAdvert, decodePacket, encodeAdvert, encodeIpPacket, VRRP_GROUP } from '../codec.ts';
import { initialState, nextDeadline, step } from '../state-machine.ts';
import type { Event, InstanceParams, InstanceState } from '../types.ts';
import { seededRandom } from '#shared/util/random.ts';

/** Deterministic PRNG (mulberry32): the whole simulation is a function of its seed. */
export const rng = seededRandom;

export interface SimRouter {
  p: InstanceParams;
  s: InstanceState;
  timerAt: number | null;
  /** Partition group: adverts reach only routers of the same group. */
  group: number;
  transitions: number;
}

/** Network conditions; changeable at any time. */
export interface Conditions {
  loss: number;
  delayMinMs: number;
  delayMaxMs: number;
}

type Item = { t: number; seq: number; router: number } & ({ kind: 'timer' } | { kind: 'packet'; bytes: Buffer });

/**
 * N VRRP routers (the pure state machine) on a simulated LAN with a virtual clock. Adverts go
 * through the real codec: encoded, wrapped in an IPv4 header, decoded and checked on receipt.
 * Loss, delay and partitions are driven by the seeded PRNG.
 */
export class SimNetwork {
  now = 0;
  private seq = 0;
  private queue: Item[] = [];
  readonly routers: SimRouter[];
  cond: Conditions = { loss: 0, delayMinMs: 0, delayMaxMs: 1 };
  /** Called after every processed event (invariant checks). */
  onEvent: (() => void) | null = null;

  constructor(
    params: InstanceParams[],
    private random: () => number,
  ) {
    this.routers = params.map((p) => ({ p, s: initialState(p, 0), timerAt: null, group: 0, transitions: 0 }));
  }

  private push(item: Item): void {
    // Sorted insert by (t, seq): deterministic order for equal times.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid];
      if (q.t < item.t || (q.t === item.t && q.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
  }

  feed(i: number, e: Event): void {
    const r = this.routers[i];
    const res = step(r.p, r.s, e, this.now);
    r.s = res.state;
    for (const a of res.actions) {
      if (a.type === 'transition') r.transitions++;
      if (a.type === 'send-advert') this.broadcast(i, a.priority);
    }
    const d = nextDeadline(r.s);
    if (d !== r.timerAt) {
      r.timerAt = d;
      if (d !== null) this.push({ t: d, seq: this.seq++, router: i, kind: 'timer' });
    }
  }

  private broadcast(from: number, priority: number): void {
    const r = this.routers[from];
    const vrrp = encodeAdvert({
      version: r.p.version,
      vrid: r.p.vrid,
      priority,
      intervalMs: r.p.advertIntervalMs,
      addresses: ['10.77.0.50'],
      password: r.p.version === 2 ? 'sim' : null,
      source: r.p.primaryAddress,
      destination: VRRP_GROUP,
    });
    const bytes = encodeIpPacket(vrrp, r.p.primaryAddress, VRRP_GROUP);
    this.routers.forEach((to, i) => {
      if (i === from || to.group !== r.group || this.random() < this.cond.loss) return;
      const delay = this.cond.delayMinMs + this.random() * (this.cond.delayMaxMs - this.cond.delayMinMs);
      this.push({ t: this.now + delay, seq: this.seq++, router: i, kind: 'packet', bytes });
    });
  }

  private deliver(i: number, bytes: Buffer): void {
    const r = this.routers[i];
    const d = decodePacket(bytes);
    if (!d.ok || d.advert.vrid !== r.p.vrid) return;
    if (checkAdvert(d.advert, { version: r.p.version, intervalMs: r.p.advertIntervalMs, password: r.p.version === 2 ? 'sim' : null })) return;
    this.feed(i, { type: 'advert', source: d.advert.source, priority: d.advert.priority, intervalMs: d.advert.intervalMs });
  }

  /** Processes every event up to and including `until`. */
  runUntil(until: number): void {
    while (this.queue.length && this.queue[0].t <= until) {
      const item = this.queue.shift()!;
      this.now = item.t;
      if (item.kind === 'timer') {
        if (this.routers[item.router].timerAt !== item.t) continue; // superseded deadline
        this.routers[item.router].timerAt = null;
        this.feed(item.router, { type: 'timer' });
      } else this.deliver(item.router, item.bytes);
      this.onEvent?.();
    }
    this.now = until;
  }

  masters(): number[] {
    return this.routers.flatMap((r, i) => (r.s.state === 'MASTER' ? [i] : []));
  }
}
