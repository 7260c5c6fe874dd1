import { expect } from 'vitest';

type Answer = { success: true } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };

/** Both answers refuse, and the one checked in parts names the same place first, with the same message, as the whole schema's. */
export function expectSameRefusal(whole: Answer, parts: Answer): void {
  expect(whole.success).toBe(false);
  expect(parts.success).toBe(false);
  if (whole.success || parts.success) return;
  expect(parts.error.issues[0].path).toEqual(whole.error.issues[0].path);
  expect(parts.error.issues[0].message).toBe(whole.error.issues[0].message);
}
