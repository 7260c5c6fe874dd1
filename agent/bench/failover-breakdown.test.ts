import { describe, expect, it } from 'vitest';
import { timingLine } from '../src/debug/failover-timing.ts';
import { breakdownOf } from './failover-breakdown.ts';

const T0 = 1_764_500_000_000;
const at = (ms: number) => T0 + ms;

describe('failover breakdown', () => {
  it('graceful stop: resigning marks from d1, detection from the first sign before MASTER, later points after MASTER', () => {
    const b = breakdownOf({
      stoppedAt: T0,
      gap: { lastReplyAt: at(4), firstReplyAt: at(31) },
      logs: {
        d1: [
          // Before the stop: ignored.
          timingLine(at(-500), 'state', 'VI_1 BACKUP→MASTER'),
          `2026-11-30T18:00:00.000Z vrrp VI_1 MASTER→STOP (shutdown)`,
          timingLine(at(0.8), 'signal', 'SIGTERM'),
          timingLine(at(2.5), 'bfd-admin-down', 'pair-d1-d2'),
          timingLine(at(3.1), 'prio0-sent', 'VI_1'),
          timingLine(at(9.7), 'vip-removed', 'VI_1'),
        ],
        d2: [
          timingLine(at(-400), 'garp-sent', 'VI_1 eth0'),
          timingLine(at(2.9), 'bfd', 'pair-d1-d2 Up→Down'),
          timingLine(at(3.0), 'state', 'VI_1 BACKUP→MASTER'),
          timingLine(at(3.6), 'prio0-rcvd', 'VI_1 from 10.99.1.11'),
          timingLine(at(14.2), 'vip-added', 'VI_1'),
          timingLine(at(12.0), 'garp-sent', 'VI_1 eth0'),
        ],
      },
    });
    expect(b.signal).toBeCloseTo(0.8, 3);
    expect(b.adminDown).toBeCloseTo(2.5, 3);
    expect(b.prio0Sent).toBeCloseTo(3.1, 3);
    expect(b.vipRemoved).toBeCloseTo(9.7, 3);
    expect(b.lastReply).toBeCloseTo(4, 3);
    expect(b.detect).toBeCloseTo(2.9, 3);
    expect(b.state).toBeCloseTo(3.0, 3);
    expect(b.vipAdded).toBeCloseTo(14.2, 3);
    // The GARP from before the stop is not this failover's.
    expect(b.garp).toBeCloseTo(12.0, 3);
    expect(b.firstReply).toBeCloseTo(31, 3);
  });

  it('crash without BFD: detection is the master-down timer (= MASTER); a keepalived side has no marks', () => {
    const b = breakdownOf({
      stoppedAt: T0,
      gap: { lastReplyAt: at(-3), firstReplyAt: at(352) },
      logs: {
        d1: ['Mon Nov 30 18:00:00 2026: (VI_1) Entering MASTER STATE'],
        d2: [timingLine(at(340.5), 'state', 'VI_1 BACKUP→MASTER'), timingLine(at(345), 'vip-added', 'VI_1')],
      },
    });
    expect(b.signal).toBeNaN();
    expect(b.prio0Sent).toBeNaN();
    expect(b.detect).toBeCloseTo(340.5, 3);
    expect(b.state).toBeCloseTo(340.5, 3);
    expect(b.vipAdded).toBeCloseTo(345, 3);
    expect(b.garp).toBeNaN();
    expect(b.lastReply).toBeCloseTo(-3, 3);
  });
});
