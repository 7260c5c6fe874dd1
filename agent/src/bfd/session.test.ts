import { describe, expect, it } from 'vitest';
import { seededRandom } from '#shared/util/random.ts';
import { decodeControl, encodeControl, type ControlPacket } from './codec.ts';
import { detectionTimeMs, initialState, nextDeadline, step, txIntervalMs } from './session.ts';
import type { Action, Event, SessionParams, SessionState } from './types.ts';

const PA: SessionParams = { name: 'B1', localDiscriminator: 0xa1, desiredMinTxUs: 10_000, requiredMinRxUs: 10_000, detectMult: 5 };
const PB: SessionParams = { ...PA, localDiscriminator: 0xb2 };

type Side = 'a' | 'b';
type WithoutRand<E> = E extends unknown ? Omit<E, 'rand'> : never;
interface Sent {
  at: number;
  from: Side;
  packet: ControlPacket;
}
interface Change {
  at: number;
  side: Side;
  action: Extract<Action, { type: 'state-change' }>;
}

/**
 * Two sessions on a simulated wire with a fixed one-way latency. Every packet goes through the
 * codec, as on a real link. Time is simulated: the loop jumps from deadline to delivery.
 */
class Wire {
  now = 0;
  readonly p: Record<Side, SessionParams> = { a: PA, b: PB };
  readonly s: Record<Side, SessionState> = { a: initialState(PA, 0), b: initialState(PB, 0) };
  readonly alive: Record<Side, boolean> = { a: true, b: true };
  readonly sent: Sent[] = [];
  readonly changes: Change[] = [];
  readonly discards: string[] = [];
  private inflight: { at: number; to: Side; bytes: Buffer }[] = [];
  private readonly rand = seededRandom(7);

  constructor(readonly latencyMs = 0.2) {}

  feed(side: Side, e: WithoutRand<Event>): void {
    if (!this.alive[side]) return;
    const r = step(this.p[side], this.s[side], { ...e, rand: this.rand() } as Event, this.now);
    this.s[side] = r.state;
    for (const a of r.actions) {
      if (a.type === 'send') {
        this.sent.push({ at: this.now, from: side, packet: a.packet });
        this.inflight.push({ at: this.now + this.latencyMs, to: side === 'a' ? 'b' : 'a', bytes: encodeControl(a.packet) });
      } else if (a.type === 'state-change') this.changes.push({ at: this.now, side, action: a });
      else this.discards.push(`${side}:${a.reason}`);
    }
  }

  run(untilMs: number): void {
    for (;;) {
      const deadlines = (['a', 'b'] as const).filter((x) => this.alive[x]).map((x) => [x, nextDeadline(this.s[x])] as const);
      const nextPkt = this.inflight.reduce<number | null>((m, f) => (m === null || f.at < m ? f.at : m), null);
      const nextTimer = deadlines.reduce<number | null>((m, [, d]) => (d !== null && (m === null || d < m) ? d : m), null);
      const t = [nextPkt, nextTimer].filter((x): x is number => x !== null).reduce((m, x) => Math.min(m, x), Infinity);
      if (t > untilMs) {
        this.now = untilMs;
        return;
      }
      this.now = t;
      const due = this.inflight.filter((f) => f.at <= t);
      this.inflight = this.inflight.filter((f) => f.at > t);
      for (const f of due) {
        const d = decodeControl(f.bytes);
        if (!d.ok) throw new Error(`undecodable packet on the wire: ${d.reason}`);
        this.feed(f.to, { type: 'packet', packet: d.packet });
      }
      for (const [x, d] of deadlines) if (d !== null && d <= t) this.feed(x, { type: 'timer' });
    }
  }

  /** The process dies: no more packets, timers or sends. */
  crash(side: Side): void {
    this.alive[side] = false;
    this.inflight = this.inflight.filter((f) => f.to !== side);
  }

  states(side: Side): string[] {
    return this.changes.filter((c) => c.side === side).map((c) => c.action.to);
  }

  sentBy(side: Side, from: number, to: number): Sent[] {
    return this.sent.filter((x) => x.from === side && x.at >= from && x.at < to);
  }
}

function upPair(): Wire {
  const w = new Wire();
  w.feed('a', { type: 'start' });
  w.run(300);
  w.feed('b', { type: 'start' });
  w.run(3000);
  expect(w.s.a.state).toBe('Up');
  expect(w.s.b.state).toBe('Up');
  return w;
}

describe('BFD session: bring-up (RFC 5880 §6.2 three-way handshake)', () => {
  it('two sessions come Up through Init, then poll down from slow start to 10 ms', () => {
    const w = new Wire();
    w.feed('a', { type: 'start' });
    w.run(300);
    // Alone, a sends Down packets at the slow-start rate with Your Discriminator 0.
    expect(w.sentBy('a', 0, 300).map((x) => [x.packet.state, x.packet.yourDiscriminator, x.packet.desiredMinTxUs])).toEqual([['Down', 0, 1_000_000]]);
    w.feed('b', { type: 'start' });
    w.run(3000);
    // b hears a's Down: Init; a hears b's Init: Up; b hears a's Up: Up.
    expect(w.states('b')).toEqual(['Init', 'Up']);
    expect(w.states('a')).toEqual(['Up']);
    expect(w.s.a.remoteDiscr).toBe(0xb2);
    expect(w.s.b.remoteDiscr).toBe(0xa1);
    // Each side, once Up, announces 10 ms with P (§6.8.3) and the other answers F at once.
    const upAt = (x: Side) => w.changes.find((c) => c.side === x && c.action.to === 'Up')!.at;
    for (const [x, y] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const poll = w.sent.find((s) => s.from === x && s.packet.poll)!;
      expect(poll.at).toBeGreaterThanOrEqual(upAt(x));
      expect(poll.packet).toMatchObject({ state: 'Up', desiredMinTxUs: 10_000, final: false });
      const fin = w.sent.find((s) => s.from === y && s.packet.final && s.at >= poll.at)!;
      expect(fin.at - poll.at).toBeCloseTo(w.latencyMs, 5);
      expect(fin.packet.poll).toBe(false);
    }
    expect(w.s.a.polling || w.s.b.polling).toBe(false);
    expect(txIntervalMs(w.s.a)).toBe(10);
    expect(detectionTimeMs(w.s.a)).toBe(50);
    expect(detectionTimeMs(w.s.b)).toBe(50);
    // Steady state: 10 ms less 0–25 % jitter, so 100–134 packets a second from each side.
    const n = w.sentBy('a', 2000, 3000).length;
    expect(n).toBeGreaterThanOrEqual(100);
    expect(n).toBeLessThanOrEqual(134);
  });

  it('every gap between periodic packets is within 75–100 % of the interval (jitter, §6.8.7)', () => {
    const w = upPair();
    const ts = w.sentBy('a', 2000, 3000).map((x) => x.at);
    const gaps = ts.slice(1).map((t, i) => t - ts[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(7.5 - 1e-9);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10 + 1e-9);
    expect(new Set(gaps.map((g) => g.toFixed(3))).size).toBeGreaterThan(10);
  });

  it('with Detect Mult 1 gaps stay within 75–90 %', () => {
    const w = new Wire();
    w.p.a = { ...PA, detectMult: 1 };
    w.s.a = initialState(w.p.a, 0);
    w.feed('a', { type: 'start' });
    w.feed('b', { type: 'start' });
    w.run(3000);
    const ts = w
      .sentBy('a', 2000, 3000)
      .filter((x) => !x.packet.final)
      .map((x) => x.at);
    const gaps = ts.slice(1).map((t, i) => t - ts[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(7.5 - 1e-9);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(9 + 1e-9);
  });
});

describe('BFD session: detection (§6.8.4) and going down', () => {
  it('a crashed peer is detected after Detect Mult × interval, diag 1, then slow start again', () => {
    const w = upPair();
    w.crash('b');
    const lastRx = w.s.a.lastRxAt!;
    w.run(w.now + 100);
    const down = w.changes.find((c) => c.side === 'a' && c.action.to === 'Down')!;
    expect(down.action.diag).toBe(1);
    // Detection at exactly 5 × 10 ms after the last packet on the simulated clock.
    expect(down.at - lastRx).toBeCloseTo(50, 6);
    expect(w.s.a.remoteDiscr).toBe(0);
    expect(w.s.a.detectAt).toBeNull();
    // Down again: 1 s slow start, Your Discriminator 0, diag 1 in every packet.
    w.run(down.at + 5001);
    const after = w.sentBy('a', down.at + 1, down.at + 5001);
    expect(after.length).toBeGreaterThanOrEqual(5);
    expect(after.length).toBeLessThanOrEqual(7);
    for (const x of after) expect(x.packet).toMatchObject({ state: 'Down', diag: 1, yourDiscriminator: 0, desiredMinTxUs: 1_000_000 });
  });

  it('peer AdminDown takes us Down with diag 3; the peer goes quiet after a detection time and comes back on admin-up', () => {
    const w = upPair();
    w.feed('b', { type: 'admin-down', diag: 7 });
    const t0 = w.now;
    w.run(t0 + 3000);
    expect(w.changes.find((c) => c.side === 'a' && c.at >= t0)?.action).toMatchObject({ to: 'Down', diag: 3 });
    expect(w.states('a').at(-1)).toBe('Down');
    expect(w.s.b.state).toBe('AdminDown');
    // b announced AdminDown, then stopped once the peer's detection time (5 × 10 ms) had passed.
    const fromB = w.sentBy('b', t0, t0 + 3000);
    expect(fromB.length).toBeGreaterThanOrEqual(1);
    for (const x of fromB) expect(x.packet).toMatchObject({ state: 'AdminDown', diag: 7 });
    expect(fromB.at(-1)!.at - t0).toBeLessThan(50);
    // a's Down packets reach b but are discarded there.
    expect(w.discards).toContain('b:admin-down');
    expect(w.s.b.txAt).toBeNull();
    w.feed('b', { type: 'admin-up' });
    w.run(w.now + 3000);
    expect(w.s.a.state).toBe('Up');
    expect(w.s.b.state).toBe('Up');
  });

  it('an Up peer going Down (restart) takes us Down with diag 3', () => {
    const w = upPair();
    // b restarts: a fresh session with a new discriminator.
    w.p.b = { ...PB, localDiscriminator: 0xb3 };
    w.s.b = initialState(w.p.b, w.now);
    w.feed('b', { type: 'start' });
    w.run(w.now + 5);
    expect(w.changes.find((c) => c.side === 'a' && c.action.to === 'Down')?.action.diag).toBe(3);
    w.run(w.now + 3000);
    expect(w.s.a.state).toBe('Up');
    expect(w.s.a.remoteDiscr).toBe(0xb3);
  });
});

describe('BFD session: Poll Sequence for timer changes (§6.5, §6.8.3)', () => {
  it('a longer TX interval takes effect only after F; the peer stretches its detection time', () => {
    const w = upPair();
    w.p.a = { ...PA, desiredMinTxUs: 100_000 };
    w.feed('a', { type: 'reconfigure' });
    // Before F: advertised 100 ms with P, but still transmitting at 10 ms.
    expect(w.s.a).toMatchObject({ polling: true, desiredMinTxUs: 100_000, txInUseUs: 10_000 });
    const t0 = w.now;
    w.run(t0 + 1000);
    expect(w.s.a.polling).toBe(false);
    expect(w.s.a.txInUseUs).toBe(100_000);
    expect(detectionTimeMs(w.s.b)).toBe(500);
    const polls = w.sentBy('a', t0, t0 + 1000).filter((x) => x.packet.poll);
    expect(polls.length).toBeGreaterThanOrEqual(1);
    for (const x of polls) expect(x.packet.desiredMinTxUs).toBe(100_000);
    expect(w.sentBy('b', t0, t0 + 1000).some((x) => x.packet.final)).toBe(true);
    // The session never flapped.
    expect(w.changes.filter((c) => c.at >= t0)).toEqual([]);
    const n = w.sentBy('a', t0 + 500, t0 + 1000).length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(7);
  });

  it('a shorter RX interval is used for detection only after F', () => {
    const w = upPair();
    w.p.a = { ...PA, requiredMinRxUs: 5_000 };
    w.p.b = { ...PB, desiredMinTxUs: 5_000 };
    w.feed('b', { type: 'reconfigure' });
    w.feed('a', { type: 'reconfigure' });
    expect(w.s.a).toMatchObject({ polling: true, requiredMinRxUs: 5_000, rxInUseUs: 10_000 });
    expect(detectionTimeMs(w.s.a)).toBe(50);
    w.run(w.now + 500);
    expect(w.s.a.rxInUseUs).toBe(5_000);
    expect(detectionTimeMs(w.s.a)).toBe(25);
    expect(w.s.a.state).toBe('Up');
  });

  it('a change while not Up applies at once, without a poll', () => {
    const p = { ...PA, requiredMinRxUs: 50_000 };
    const s = step(p, initialState(PA, 0), { type: 'reconfigure', rand: 0 }, 0).state;
    expect(s).toMatchObject({ polling: false, requiredMinRxUs: 50_000, rxInUseUs: 50_000 });
  });
});

describe('BFD session: misbehaving and unusual packets', () => {
  const pk = (over: Partial<ControlPacket>): ControlPacket => ({
    diag: 0,
    state: 'Down',
    poll: false,
    final: false,
    cpi: false,
    auth: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 0x77,
    yourDiscriminator: 0,
    desiredMinTxUs: 20_000,
    requiredMinRxUs: 30_000,
    requiredMinEchoRxUs: 0,
    ...over,
  });
  const started = () => step(PA, initialState(PA, 0), { type: 'start', rand: 0 }, 0).state;

  it('a packet for another discriminator is discarded and changes nothing', () => {
    const s0 = started();
    const r = step(PA, s0, { type: 'packet', packet: pk({ state: 'Init', yourDiscriminator: 0xdead }), rand: 0 }, 10);
    expect(r.actions).toEqual([{ type: 'discard', reason: 'discriminator' }]);
    expect(r.state).toEqual(s0);
  });

  it('an Up packet while we are Down does not bring us Up (no skipping the handshake)', () => {
    const r = step(PA, started(), { type: 'packet', packet: pk({ state: 'Up', yourDiscriminator: PA.localDiscriminator }), rand: 0 }, 10);
    expect(r.state.state).toBe('Down');
    expect(r.actions.filter((a) => a.type === 'state-change')).toEqual([]);
    // It still counts as heard: discriminator learned, detection armed at 3 × max(10, 20) ms.
    expect(r.state.remoteDiscr).toBe(0x77);
    expect(r.state.detectAt).toBe(10 + 60);
  });

  it('P is answered at once with F (and never P), whatever the timer says', () => {
    const s0 = started();
    const r = step(PA, s0, { type: 'packet', packet: pk({ poll: true }), rand: 0 }, 10);
    const sends = r.actions.filter((a) => a.type === 'send');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ packet: { final: true, poll: false, state: 'Init', yourDiscriminator: 0x77 } });
  });

  it('we send no faster than the peer asks, and nothing when it asks for 0 (§6.8.7)', () => {
    const up = upPair().s.a;
    const slow = step(
      PA,
      up,
      { type: 'packet', packet: pk({ state: 'Up', yourDiscriminator: PA.localDiscriminator, requiredMinRxUs: 300_000 }), rand: 0 },
      up.lastRxAt! + 1,
    );
    expect(txIntervalMs(slow.state)).toBe(300);
    const none = step(
      PA,
      up,
      { type: 'packet', packet: pk({ state: 'Up', yourDiscriminator: PA.localDiscriminator, requiredMinRxUs: 0 }), rand: 0 },
      up.lastRxAt! + 1,
    );
    expect(none.state.txAt).toBeNull();
    expect(none.state.state).toBe('Up');
  });

  it('a peer in Demand mode stops our periodic packets once both are Up', () => {
    const up = upPair().s.a;
    const r = step(PA, up, { type: 'packet', packet: pk({ state: 'Up', demand: true, yourDiscriminator: PA.localDiscriminator }), rand: 0 }, up.lastRxAt! + 1);
    expect(r.state.txAt).toBeNull();
    expect(r.state.detectAt).not.toBeNull();
  });

  it('a lower RX request from the peer pulls the next transmission in', () => {
    const up = upPair().s.a;
    const peerUp = (requiredMinRxUs: number) =>
      pk({ state: 'Up', yourDiscriminator: PA.localDiscriminator, detectMult: 50, desiredMinTxUs: 10_000, requiredMinRxUs });
    const t = up.lastRxAt! + 1;
    const slow = step(PA, up, { type: 'packet', packet: peerUp(300_000), rand: 0 }, t).state;
    const sent = step(PA, slow, { type: 'timer', rand: 0 }, slow.txAt!);
    expect(sent.actions.map((a) => a.type)).toEqual(['send']);
    expect(sent.state.txAt).toBe(slow.txAt! + 300);
    const fast = step(PA, sent.state, { type: 'packet', packet: peerUp(10_000), rand: 0 }, slow.txAt! + 1).state;
    expect(fast.txAt).toBe(slow.txAt! + 1 + 10);
  });

  it('start twice does not send twice; timers are only due when due', () => {
    const s0 = started();
    expect(step(PA, s0, { type: 'start', rand: 0 }, 1).actions).toEqual([]);
    expect(step(PA, s0, { type: 'timer', rand: 0 }, 999).actions).toEqual([]);
    expect(step(PA, s0, { type: 'timer', rand: 0 }, 1000).actions.map((a) => a.type)).toEqual(['send']);
  });
});
