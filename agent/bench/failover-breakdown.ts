import { parseTimingLine, type TimingMarkLine } from '../src/debug/failover-timing.ts';

/**
 * One failover's breakdown, ms after the crash (first SIGSTOP) or the SIGTERM. NaN where the
 * point did not happen or was not marked (keepalived writes no marks; a crashed master none).
 */
export interface Breakdown {
  /** Resigning side (d1): its stop handler ran. */
  signal: number;
  /** d1: BFD AdminDown sent to its peers. */
  adminDown: number;
  /** d1: the priority-0 advert handed to the socket. */
  prio0Sent: number;
  /** d1: `ip addr del` of the VIP returned. */
  vipRemoved: number;
  /** The client's last reply before its longest gap. */
  lastReply: number;
  /** Taking over (d2): the first sign the master is going (BFD left Up, priority 0 received), else the master-down timer (= state). */
  detect: number;
  /** d2: the transition to MASTER. */
  state: number;
  /** d2: `ip addr add` of the VIP returned. */
  vipAdded: number;
  /** d2: the first gratuitous ARP burst went out. */
  garp: number;
  /** The client's first reply after its longest gap. */
  firstReply: number;
}

/** Column order and labels for the bench's table. */
export const BREAKDOWN_COLUMNS: { key: keyof Breakdown; label: string }[] = [
  { key: 'signal', label: 'd1 signal' },
  { key: 'adminDown', label: 'd1 BFD AdminDown' },
  { key: 'prio0Sent', label: 'd1 prio 0 sent' },
  { key: 'vipRemoved', label: 'd1 VIP removed' },
  { key: 'lastReply', label: 'client last reply' },
  { key: 'detect', label: 'd2 detect' },
  { key: 'state', label: 'd2 MASTER' },
  { key: 'vipAdded', label: 'd2 VIP added' },
  { key: 'garp', label: 'd2 first GARP' },
  { key: 'firstReply', label: 'client first reply' },
];

/** What the breakdown is made from: both directors' output, when the master went, and the client's gap (epoch ms). */
export interface FailoverTrace {
  logs: { d1: string[]; d2: string[] };
  stoppedAt: number;
  gap: { lastReplyAt: number; firstReplyAt: number };
}

/** Marks from a director's output at or after `from` (1 ms of slack: stamps come from three processes' clocks). */
const marksOf = (lines: string[], from: number): TimingMarkLine[] =>
  lines.flatMap((l) => {
    const m = parseTimingLine(l);
    return m && m.at >= from - 1 ? [m] : [];
  });

/** The breakdown of one failover from its trace. Pure: the bench's arithmetic, tested without a lab. */
export function breakdownOf(r: FailoverTrace): Breakdown {
  const t0 = r.stoppedAt;
  const d1 = marksOf(r.logs.d1, t0);
  const d2 = marksOf(r.logs.d2, t0);
  const rel = (m: TimingMarkLine | undefined) => (m ? m.at - t0 : NaN);
  const master = d2.find((m) => m.point === 'state' && m.detail.endsWith('→MASTER'));
  const after = (point: TimingMarkLine['point']) => rel(master ? d2.find((m) => m.point === point && m.at >= master.at) : undefined);
  const signs = d2.filter((m) => (m.point === 'bfd' && /→(Down|AdminDown)$/.test(m.detail)) || m.point === 'prio0-rcvd');
  const sign = master ? signs.find((m) => m.at <= master.at) : undefined;
  return {
    signal: rel(d1.find((m) => m.point === 'signal')),
    adminDown: rel(d1.find((m) => m.point === 'bfd-admin-down')),
    prio0Sent: rel(d1.find((m) => m.point === 'prio0-sent')),
    vipRemoved: rel(d1.find((m) => m.point === 'vip-removed')),
    lastReply: r.gap.lastReplyAt - t0,
    detect: rel(sign ?? master),
    state: rel(master),
    vipAdded: after('vip-added'),
    garp: after('garp-sent'),
    firstReply: r.gap.firstReplyAt - t0,
  };
}
