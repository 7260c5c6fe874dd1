/**
 * Whether `p` settles (resolves or rejects) within `ms`: for a stop's waits on a peer, which are
 * bounded and whose outcome is not wanted. The timer is cleared either way; it is not unref'd, as
 * an agent awaiting it at exit must not see its event loop empty under an unsettled await.
 */
export async function settledWithin(ms: number, p: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
