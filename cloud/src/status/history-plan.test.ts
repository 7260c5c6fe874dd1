import { describe, expect, it } from 'vitest';
import { planHistory, type OpenSpan } from './history-plan.ts';

const T = Date.parse('2026-11-30T02:00:00Z');
const OPTS = { gapAfterMs: 150_000, flushEveryMs: 60_000 };
const span = (id: number, state: string, from: number, confirmed = from, flushed = confirmed): OpenSpan => ({ id, state, from, confirmed, flushed });
const cur = (entries: [string, string][]) => new Map(entries);

describe('planHistory', () => {
  it('starts a span for every subject it has none for', () => {
    const p = planHistory(
      new Map(),
      cur([
        ['site', 'operational'],
        ['service:web', 'operational'],
      ]),
      T,
      OPTS,
    );
    expect(p.start).toEqual([
      { subject: 'site', state: 'operational', from: T },
      { subject: 'service:web', state: 'operational', from: T },
    ]);
    expect(p.confirm).toEqual([]);
  });

  it('writes nothing while a state holds and the last write is recent', () => {
    const open = new Map([['site', span(1, 'operational', T - 30_000, T - 2_000, T - 30_000)]]);
    expect(planHistory(open, cur([['site', 'operational']]), T, OPTS)).toEqual({ confirm: [], start: [], forget: [] });
  });

  it('confirms an unchanged span once the flush interval has passed', () => {
    const open = new Map([['site', span(1, 'operational', T - 90_000, T - 2_000, T - 61_000)]]);
    expect(planHistory(open, cur([['site', 'operational']]), T, OPTS).confirm).toEqual([{ subject: 'site', id: 1, at: T }]);
  });

  it('ends the span now and starts another when the state changes', () => {
    const open = new Map([['vrrp:VI_1', span(4, 'ok', T - 600_000, T - 2_000, T - 40_000)]]);
    const p = planHistory(open, cur([['vrrp:VI_1', 'no_master']]), T, OPTS);
    expect(p.confirm).toEqual([{ subject: 'vrrp:VI_1', id: 4, at: T }]);
    expect(p.start).toEqual([{ subject: 'vrrp:VI_1', state: 'no_master', from: T }]);
  });

  it('leaves a gap after a span not confirmed for too long (the cloud was down), even when the state is the same', () => {
    const open = new Map([['site', span(1, 'operational', T - 3_600_000, T - 600_000, T - 640_000)]]);
    const p = planHistory(open, cur([['site', 'operational']]), T, OPTS);
    // The old span keeps its last confirmation (written if it was not yet), the new one starts now.
    expect(p.confirm).toEqual([{ subject: 'site', id: 1, at: T - 600_000 }]);
    expect(p.start).toEqual([{ subject: 'site', state: 'operational', from: T }]);
  });

  it('after a restart (spans read back, confirmed = flushed), a gap writes nothing to the old span', () => {
    const open = new Map([['site', span(1, 'operational', T - 3_600_000, T - 600_000)]]);
    expect(planHistory(open, cur([['site', 'operational']]), T, OPTS).confirm).toEqual([]);
  });

  it('ends and forgets the span of a subject that is gone (a service removed)', () => {
    const open = new Map([
      ['site', span(1, 'operational', T - 10_000, T - 2_000)],
      ['service:old', span(2, 'operational', T - 10_000, T - 2_000, T - 10_000)],
    ]);
    const p = planHistory(open, cur([['site', 'operational']]), T, OPTS);
    expect(p.confirm).toEqual([{ subject: 'service:old', id: 2, at: T }]);
    expect(p.forget).toEqual(['service:old']);
  });
});
