/**
 * Runs jobs one at a time per key, in the order they were pushed, and up to `limit` jobs of
 * different keys at once. Ingest keys by node: a node's reports and events stay in arrival order
 * (its presence and replay rules depend on it), while reports of different nodes, each a few
 * database round trips, overlap instead of queueing behind one another. A failed job is handed
 * to `onError` and does not stop the jobs after it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;

  constructor(
    private readonly limit: number,
    private readonly onError: (err: unknown) => void,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  }

  push(key: string, job: () => Promise<void>): Promise<void> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(async () => {
      await this.slot();
      try {
        await job();
      } catch (err) {
        this.onError(err);
      } finally {
        this.release();
      }
    });
    this.tails.set(key, run);
    void run.then(() => {
      if (this.tails.get(key) === run) this.tails.delete(key);
    });
    return run;
  }

  /** Resolves once every job pushed so far, and every job those pushed, has finished. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }

  /** Keys with a job running or waiting. */
  get pending(): number {
    return this.tails.size;
  }

  private slot(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` stays as it is.
    if (next) next();
    else this.running--;
  }
}
