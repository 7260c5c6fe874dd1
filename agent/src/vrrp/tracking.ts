/**
 * keepalived's tracking (pure): vrrp_script rise/fall and the effective priority.
 * Weights follow keepalived: a positive weight is added while the script succeeds / the interface
 * or BFD session is up, a negative one while it fails / is down; weight 0 means failure → FAULT.
 */

/** A vrrp_script's debounced result: `ok` flips after `rise` successes or `fall` failures in a row. */
export interface ScriptState {
  ok: boolean;
  streak: number;
}

/** keepalived starts scripts as succeeding (unless init_fail, which we do not offer). */
export const initialScriptState = (): ScriptState => ({ ok: true, streak: 0 });

/** Feeds one script run (vrrp_script rise/fall). */
export function scriptRun(s: ScriptState, success: boolean, rise: number, fall: number): ScriptState {
  if (success === s.ok) return { ok: s.ok, streak: 0 };
  const streak = s.streak + 1;
  return streak >= (success ? rise : fall) ? { ok: success, streak: 0 } : { ok: s.ok, streak };
}

export interface TrackedInstance {
  priority: number;
  interface: string;
  dontTrackPrimary: boolean;
  trackInterfaces: { interface: string; weight: number }[];
  trackScripts: { script: string; weight: number }[];
  /** keepalived track_bfd (absent in configs compiled before BFD). */
  trackBfd?: { name: string; weight: number }[];
}

export interface TrackResult {
  effectivePriority: number;
  /** Why the instance must be in FAULT, or null. */
  fault: string | null;
  /** What contributed, for logs and the transition reason. */
  detail: string;
}

/**
 * Effective priority and fault of an instance from script results, link states and BFD sessions.
 * Unknown scripts/links count as healthy (they have not reported yet); a BFD session counts as Up
 * only once it is Up (keepalived starts a tracked bfd down, and AdminDown counts as Down).
 */
export function evaluateTracking(
  inst: TrackedInstance,
  scripts: ReadonlyMap<string, boolean>,
  links: ReadonlyMap<string, boolean>,
  bfd: ReadonlyMap<string, boolean> = new Map(),
): TrackResult {
  let prio = inst.priority;
  const faults: string[] = [];
  const notes: string[] = [];
  if (!inst.dontTrackPrimary && links.get(inst.interface) === false) faults.push(`interface ${inst.interface} down`);
  for (const t of inst.trackInterfaces) {
    const up = links.get(t.interface) !== false;
    if (t.weight === 0) {
      if (!up) faults.push(`interface ${t.interface} down`);
    } else if (t.weight > 0 === up) {
      prio += t.weight;
      notes.push(`${t.interface} ${up ? 'up' : 'down'} ${t.weight > 0 ? '+' : ''}${t.weight}`);
    }
  }
  for (const t of inst.trackScripts) {
    const ok = scripts.get(t.script) !== false;
    if (t.weight === 0) {
      if (!ok) faults.push(`script ${t.script} failed`);
    } else if (t.weight > 0 === ok) {
      prio += t.weight;
      notes.push(`script ${t.script} ${ok ? 'ok' : 'failed'} ${t.weight > 0 ? '+' : ''}${t.weight}`);
    }
  }
  for (const t of inst.trackBfd ?? []) {
    const up = bfd.get(t.name) === true;
    if (t.weight === 0) {
      if (!up) faults.push(`BFD ${t.name} down`);
    } else if (t.weight > 0 === up) {
      prio += t.weight;
      notes.push(`BFD ${t.name} ${up ? 'up' : 'down'} ${t.weight > 0 ? '+' : ''}${t.weight}`);
    }
  }
  const effectivePriority = inst.priority === 255 ? 255 : Math.max(1, Math.min(254, prio));
  return { effectivePriority, fault: faults.length ? [...new Set(faults)].join(', ') : null, detail: notes.join(', ') || 'no tracking change' };
}
