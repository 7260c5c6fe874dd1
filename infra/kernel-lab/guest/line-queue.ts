/**
 * Lines of a stream handed out one at a time, in arrival order, to callers that wait for them
 * (the C loop's answers, a long-lived connection's echoes). A caller that stops waiting (its
 * timeout) is taken off the queue, so a late line goes to the next caller instead of to nobody.
 */
export class LineQueue {
  private readonly lines: string[] = [];
  private readonly waiters: ((line: string | null) => void)[] = [];
  private why: string | null = null;

  push(line: string): void {
    const w = this.waiters.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  /** The source is gone (`why`): callers waiting now, and later ones once the lines are taken, get null. */
  end(why: string): void {
    this.why ??= why;
    for (const w of this.waiters.splice(0)) w(null);
  }

  /** Why the source ended, or null while it runs. */
  get ended(): string | null {
    return this.why;
  }

  /** The next line; null when the source ended, or when `timeoutMs` passed first. */
  next(timeoutMs?: number): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.why !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (line: string | null) => {
        clearTimeout(timer);
        resolve(line);
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.waiters.indexOf(waiter);
              if (i >= 0) this.waiters.splice(i, 1);
              resolve(null);
            }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
