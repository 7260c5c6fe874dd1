import type { NodeConfig } from '#shared/config/node-config.ts';
import type { Site } from '#shared/site/site.ts';

/**
 * A site's current state as an apply left it: what the next apply's decision reads (the spec, its
 * hash, the live nodes' config hashes) and the compiled configs its diff compares field by field.
 * `version` is the site row's version after that apply's commit (PostgreSQL's `xmin`: the
 * transaction that last wrote the row), so it names exactly one committed state of the row.
 */
export interface SiteState {
  siteId: string;
  revision: number;
  version: string;
  spec: Site;
  specHash: string;
  configHashes: ReadonlyMap<string, string>;
  configs: ReadonlyMap<string, NodeConfig>;
  /** The state's rough size in bytes (spec and configs as JSON text), for the bound. */
  bytes: number;
}

/**
 * The current state of the sites this process applied last, so that its next apply of a site
 * need not read back the spec and 1,000 node hashes it wrote itself, nor compile the previous
 * spec again for the diff. An entry is used only while the site row still has the same id,
 * revision and version (`get` is handed what the apply just read, locked, from the row): another
 * replica's apply, a rollout's rollback, a change of the site's overrides or a withheld stage all
 * write the row and so make the entry miss (anything that changes a site's nodes' config hashes
 * outside an apply must write the site row too: `withhold` does). Entries are put only after
 * their transaction committed. Holds at most `maxBytes` (least recently applied site out first);
 * a miss only costs the reads.
 */
export class SiteStates {
  private readonly states = new Map<string, SiteState>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** The state remembered for the site, if the row read still is the one it was remembered for. */
  get(key: string, row: { siteId: string; revision: number; version: string }): SiteState | undefined {
    const s = this.states.get(key);
    if (!s) return undefined;
    if (s.siteId === row.siteId && s.revision === row.revision && s.version === row.version) return s;
    this.forget(key);
    return undefined;
  }

  /** Remembers a committed state (one larger than the bound is not kept; nor is the one before it). */
  put(key: string, state: SiteState): void {
    this.forget(key);
    if (state.bytes > this.maxBytes) return;
    this.states.set(key, state);
    this.bytes += state.bytes;
    // Map order is insertion order: the first entry is the least recently applied site.
    for (const [k] of this.states) {
      if (this.bytes <= this.maxBytes) break;
      this.forget(k);
    }
  }

  forget(key: string): void {
    const s = this.states.get(key);
    if (!s) return;
    this.states.delete(key);
    this.bytes -= s.bytes;
  }

  /** Bytes held (for the tests of the bound). */
  get heldBytes(): number {
    return this.bytes;
  }
}
