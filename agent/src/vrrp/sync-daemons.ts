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
 * The connection-sync actions of a transition `from` → `to`: the daemon set when it changes, and
 * the hold: on in every state but MASTER (inert there: without the VIP no packet for it is local,
 * so it is in place before the VIPs arrive), released HOLD_UNSYNCED_MS after becoming MASTER, and
 * released at once when the instance stops.
 */
export function syncTransitionActions(from: VrrpState, to: VrrpState): Action[] {
  const out: Action[] = [];
  const [before, after] = [syncDaemonsFor(from), syncDaemonsFor(to)];
  if (before.join() !== after.join()) out.push({ type: 'sync-daemon', daemons: after });
  if (to === 'MASTER') out.push({ type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS });
  else if (to === 'STOP') out.push({ type: 'hold-unsynced', releaseAfterMs: 0 });
  else if (to !== 'INIT' && (from === 'MASTER' || from === 'INIT' || from === 'STOP')) out.push({ type: 'hold-unsynced', releaseAfterMs: null });
  return out;
}
