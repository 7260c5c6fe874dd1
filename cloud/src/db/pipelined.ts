import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Statements of one transaction sent without waiting for each one's answer. postgres.js writes a
 * statement to the transaction's connection as soon as it is started, and the database runs it
 * while this process builds the next one: an apply builds its 2 MB outbox insert while the nodes
 * upsert runs, and sends the audit row while the outbox insert runs. On PGlite the statements
 * queue and run one after another, as before.
 *
 * The order is the sending order. Once a statement fails, the database refuses every later one of
 * the transaction ("current transaction is aborted"), so the error that says what went wrong is
 * the first one sent: `answer` and `settle` throw that one.
 */
export class Pipelined {
  private readonly sent: Promise<unknown>[] = [];

  /** Starts `statement`; `settle` waits for its answer. */
  send(statement: PromiseLike<unknown>): void {
    void this.kept(statement);
  }

  /** Starts `statement` and returns its answer, for the caller to await after more are sent. */
  kept<T>(statement: PromiseLike<T>): Promise<T> {
    const answer = Promise.resolve(statement);
    // Awaited by settle(); until then a failure is not an unhandled rejection.
    answer.catch(() => {});
    this.sent.push(answer);
    return answer;
  }

  /** Sends `statement` and waits for its answer; when it fails, throws the first failure sent before or with it. */
  answer<T>(statement: PromiseLike<T>): Promise<T> {
    return this.wait(this.kept(statement));
  }

  /**
   * Waits for the answer of a statement `kept` started; when it fails, throws the first failure
   * sent before or with it. Several reads sent together are awaited one by one this way.
   */
  async wait<T>(answer: Promise<T>): Promise<T> {
    try {
      return await answer;
    } catch (e) {
      await this.settle();
      throw e;
    }
  }

  /** Waits for every statement sent; throws the first failure in sending order. */
  async settle(): Promise<void> {
    for (const answer of this.sent) await answer;
  }

  /**
   * Lets the statements started so far reach the connection before the caller's next synchronous
   * work. The driver takes a started statement a few promise jobs later, and writes one under 1 KB
   * from a setImmediate of its own, queued after any this call queues at the same time: so two
   * turns of the event loop, the driver's write running between them.
   */
  static async flushed(): Promise<void> {
    await nextTurn();
    await nextTurn();
  }
}
