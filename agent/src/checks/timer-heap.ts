/** A due time for one probe; stale entries (gen no longer current) are skipped by the scheduler. */
export interface TimerEntry {
  at: number;
  probe: string;
  gen: number;
}

/**
 * Binary min-heap of due times. The scheduler keeps thousands of probes; a heap makes "what is
 * due now" and "when is the next wake-up" O(log n) instead of a scan per event.
 */
export class TimerHeap {
  private items: TimerEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: TimerEntry): void {
    const a = this.items;
    a.push(entry);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent].at <= a[i].at) break;
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }

  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  pop(): TimerEntry | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].at < a[m].at) m = l;
        if (r < a.length && a[r].at < a[m].at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
