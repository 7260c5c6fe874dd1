import type { SyncDaemon } from '../dataplane/vrrp-host.ts';
import type { Action, VrrpState } from './types.ts';

/**
 * Connection sync across a VIP move (pure). Linux IPVS syncs a connection to the peer only
 * through the master sync daemon's buffer, which goes out when full or once it is 2 s old
 * (IPVS_SYNC_FLUSH_TIME, checked every IPVS_SYNC_CHECK_PERIOD = 1 s), and stopping that daemon
 * drops whatever the buffer still holds. keepalived's lvs_sync_daemon swaps master for backup at
 * each transition, so at a move the leaving director discards its last seconds of connections
 * and the new MASTER, whose backup daemon just stopped, could not take them anyway: their next
 * packet reaches the new MASTER's own TCP stack, which answers with a reset.
 *
 * So a director runs BOTH daemons whenever the instance runs (the kernel allows one of each at
 * once): a demoted director's master daemon still sends its last buffer, and a promoted one's
 * backup daemon still receives it. Transitions touch no daemon at all.
 */
export function syncDaemonsFor(state: VrrpState): SyncDaemon[] {
  return state === 'INIT' || state === 'STOP' ? [] : ['master', 'backup'];
}

/**
 * How long a new MASTER drops (rather than resets) mid-stream TCP to its VIPs that IPVS does not
 * know: the longest a part-filled sync buffer of the old MASTER waits (2 s + one 1 s check), plus
 * 2 s for its delivery and a busy peer. The client retransmits meanwhile and its retransmission
 * finds the synced entry. After the window a connection nobody synced (the old MASTER crashed)
 * gets its reset again, so its client fails fast instead of hanging.
 */
export const HOLD_UNSYNCED_MS = 5_000;

/**
 * How long a MASTER that left gracefully (a priority-0 advert, or stepping down for a higher
 * priority) keeps taking packets addressed to its VIPs without answering ARP for them: the new
 * MASTER's hold window plus its Skew_Time and a margin, so every copy the new MASTER sends back
 * (below) still finds it. See dataplane/vip-linger.ts.
 */
export const LINGER_MS = HOLD_UNSYNCED_MS + 1_000;

/**
 * The connection-sync actions of a transition `from` → `to`: the daemon set when it changes, and
 * the hold: on in every state but MASTER (inert there: without the VIP no packet for it is local,
 * so it is in place before the VIPs arrive), released HOLD_UNSYNCED_MS after becoming MASTER, and
 * released at once when the instance stops.
 *
 * Make-before-break at a graceful move. IPVS syncs a TCP connection only from ESTABLISHED on, so
 * one whose SYN reached the old MASTER (SYN_RECV there) and whose handshake ACK reaches the new
 * one after the gratuitous ARP is in nobody's sync: the new MASTER does not know it, and the old
 * one never sees the ACK that would make it ESTABLISHED. So:
 * - the old MASTER, leaving for BACKUP or FAULT, lingers (`linger-vips`, before its VIPs go): for
 *   LINGER_MS it still delivers packets to its VIPs locally, to its IPVS, without answering ARP;
 * - the new MASTER, when it knows who handed over (`handoverFrom`: the source of the priority-0
 *   advert, or the lower master it preempted; never after a crash, where nobody would answer),
 *   sends a copy of each held packet to that director (`forwardTo`) while it drops the original.
 * The old director's IPVS forwards the copy to the real server, sees the ACK, and syncs the now
 * ESTABLISHED connection to the new MASTER, which takes it from then on. The linger is ended at
 * once on the way to MASTER or STOP and at the start (a restart after a crash leaves none behind).
 */
export function syncTransitionActions(from: VrrpState, to: VrrpState, handoverFrom: string | null = null): Action[] {
  const out: Action[] = [];
  const [before, after] = [syncDaemonsFor(from), syncDaemonsFor(to)];
  if (before.join() !== after.join()) out.push({ type: 'sync-daemon', daemons: after });
  if (from === 'MASTER' && (to === 'BACKUP' || to === 'FAULT')) out.push({ type: 'linger-vips', releaseAfterMs: LINGER_MS });
  else if (to === 'MASTER' || to === 'STOP' || ((from === 'INIT' || from === 'STOP') && to !== 'INIT')) out.push({ type: 'linger-vips', releaseAfterMs: 0 });
  if (to === 'MASTER') out.push({ type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS, ...(handoverFrom ? { forwardTo: handoverFrom } : {}) });
  else if (to === 'STOP') out.push({ type: 'hold-unsynced', releaseAfterMs: 0 });
  else if (to !== 'INIT' && (from === 'MASTER' || from === 'INIT' || from === 'STOP')) out.push({ type: 'hold-unsynced', releaseAfterMs: null });
  return out;
}
