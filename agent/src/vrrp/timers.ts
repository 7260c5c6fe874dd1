/**
 * VRRP timer arithmetic (pure).
 * v2, RFC 3768 §6.1: Skew_Time = (256 − Priority) / 256 s; Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time.
 * v3, RFC 5798 §6.1: Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256, with the
 * interval learned from the master's adverts (§6.4.2); Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time.
 */
export function skewMs(version: 2 | 3, priority: number, masterAdverIntervalMs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  return ((256 - priority) * masterAdverIntervalMs) / 256;
}

/** Master_Down_Interval in ms (see skewMs). */
export function masterDownIntervalMs(version: 2 | 3, priority: number, masterAdverIntervalMs: number): number {
  return 3 * masterAdverIntervalMs + skewMs(version, priority, masterAdverIntervalMs);
}
