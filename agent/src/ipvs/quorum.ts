/**
 * keepalived's quorum with hysteresis (check_data.c / ipwrapper.c update_quorum_state): quorum is
 * lost when the healthy weight sum drops below quorum - hysteresis and restored when it reaches
 * quorum + hysteresis; in between the previous state holds. The first evaluation has no
 * previous state and takes `sum >= quorum`, without an event.
 */
export function quorumStep(prev: boolean | undefined, sum: number, quorum: number, hysteresis: number): { up: boolean; changed: boolean } {
  if (prev === undefined) return { up: sum >= quorum, changed: false };
  if (prev && sum < quorum - hysteresis) return { up: false, changed: true };
  if (!prev && sum >= quorum + hysteresis) return { up: true, changed: true };
  return { up: prev, changed: false };
}
