import type { ResolvedScript } from '#shared/config/node-config.ts';
import type { VrrpHost } from '../dataplane/vrrp-host.ts';
import { initialScriptState, scriptRun, type ScriptState } from './tracking.ts';

/**
 * Runs keepalived vrrp_scripts on their interval (never two runs of one script at once) and
 * watches links; calls `onChange` whenever a debounced script result or a link state changes.
 */
export class TrackRunner {
  readonly scripts = new Map<string, ScriptState>();
  links = new Map<string, boolean>();
  private timers = new Map<string, NodeJS.Timeout>();
  private defs = new Map<string, ResolvedScript>();
  private unwatch: (() => void) | null = null;
  private stopped = false;

  constructor(
    private host: VrrpHost,
    private onChange: (why: string) => void,
    private log: (line: string) => void,
  ) {}

  /** Reads link states once and starts watching; a host that cannot tell reports every link up. */
  async startLinks(): Promise<void> {
    try {
      this.links = await this.host.links();
    } catch (e) {
      this.log(`vrrp: cannot read links: ${(e as Error).message}`);
    }
    this.unwatch = this.host.watchLinks((links) => {
      const changed = [...links].filter(([k, v]) => this.links.get(k) !== v).map(([k, v]) => `${k} ${v ? 'up' : 'down'}`);
      this.links = links;
      if (changed.length) this.onChange(`link ${changed.join(', ')}`);
    });
  }

  /** Starts, restarts (changed definition) or stops script loops to match `scripts`. */
  setScripts(scripts: ResolvedScript[]): void {
    const next = new Map(scripts.map((s) => [s.name, s]));
    for (const [name, def] of this.defs) {
      const n = next.get(name);
      if (!n || JSON.stringify(n) !== JSON.stringify(def)) {
        clearTimeout(this.timers.get(name));
        this.timers.delete(name);
        this.defs.delete(name);
        if (!n) this.scripts.delete(name);
      }
    }
    for (const [name, def] of next) {
      if (this.defs.has(name)) continue;
      this.defs.set(name, def);
      if (!this.scripts.has(name)) this.scripts.set(name, initialScriptState());
      this.loop(def, 0);
    }
  }

  private loop(def: ResolvedScript, delay: number): void {
    const t = setTimeout(() => void this.runOnce(def), delay);
    this.timers.set(def.name, t);
  }

  private async runOnce(def: ResolvedScript): Promise<void> {
    // runScript resolves false on any failure; it never rejects.
    const ok = await this.host.runScript(def.command, def.timeoutMs, def.user);
    if (this.stopped || this.defs.get(def.name) !== def) return;
    const before = this.scripts.get(def.name) ?? initialScriptState();
    const after = scriptRun(before, ok, def.rise, def.fall);
    this.scripts.set(def.name, after);
    if (after.ok !== before.ok) this.onChange(`script ${def.name} ${after.ok ? 'succeeded' : 'failed'}`);
    this.loop(def, def.intervalMs);
  }

  /** Script results as seen by evaluateTracking. */
  scriptResults(): Map<string, boolean> {
    return new Map([...this.scripts].map(([k, v]) => [k, v.ok]));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.unwatch?.();
  }
}
