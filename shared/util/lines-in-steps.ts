/**
 * Hands `add` each line of `text` (split at '\n'), awaiting `between()` whenever a run of lines
 * has taken `stepMs`: for a text too long to read in one run of the event loop, such as a
 * 10,000-real-server director's IPVS table, read at every pass while its VRRP adverts and BFD
 * packets are timers on the same loop. The clock is read every 64 lines.
 */
export async function eachLineInSteps(text: string, add: (line: string) => void, between: () => Promise<void>, stepMs = 8): Promise<void> {
  let stepStart = performance.now();
  let i = 0;
  for (const line of text.split('\n')) {
    if (++i % 64 === 0 && performance.now() - stepStart >= stepMs) {
      await between();
      stepStart = performance.now();
    }
    add(line);
  }
}
