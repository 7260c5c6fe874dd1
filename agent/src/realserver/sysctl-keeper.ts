import type { Dataplane } from '../dataplane/types.ts';

/** Previous values of the sysctls we changed, persisted so a restart can still restore them. */
export type SavedSysctls = Record<string, string>;

export interface SysctlResult {
  saved: SavedSysctls;
  changed: string[];
  restored: string[];
  /** Keys we had set that someone changed back (drift), now repaired. */
  drift: string[];
}

/**
 * Converges sysctls to `desired`, remembering each key's value from before our first write and
 * writing it back once the key is no longer desired, so a host leaves the fleet as it came.
 */
export async function convergeSysctls(dp: Dataplane, desired: Record<string, string>, saved: SavedSysctls): Promise<SysctlResult> {
  const out: SysctlResult = { saved: { ...saved }, changed: [], restored: [], drift: [] };
  for (const [key, value] of Object.entries(desired)) {
    const current = await dp.readSysctl(key);
    if (current === null) throw new Error(`sysctl ${key} does not exist on this host`);
    if (current === value) continue;
    if (key in out.saved) out.drift.push(`${key}=${current} (want ${value})`);
    else out.saved[key] = current;
    await dp.writeSysctl(key, value);
    out.changed.push(key);
  }
  for (const [key, previous] of Object.entries(out.saved)) {
    if (key in desired) continue;
    if ((await dp.readSysctl(key)) !== null) await dp.writeSysctl(key, previous);
    delete out.saved[key];
    out.restored.push(key);
  }
  return out;
}
