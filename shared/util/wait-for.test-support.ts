/**
 * Polls `check` until it answers something truthy and answers that, or fails after `timeoutMs`
 * naming `what`. For tests that wait on state they cannot subscribe to (a database row, a
 * process's output); where an event or a promise says "done", tests await that instead.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
