import { plural } from '#shared/util/plural.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import type { Site } from '#shared/site/site.ts';
import { diffSites, type SiteDiff } from './diff.ts';
import { DomainError } from './errors.ts';
import { changedScripts } from './scripts.ts';

export interface ApplyInput {
  orgId: string;
  site: Site;
  /** The site the caller addressed (the URL's); when given it must equal the spec's metadata.name. */
  siteName?: string;
  author: string;
  message?: string;
  /** If-Match: the revision the caller based its change on. */
  ifMatch?: number;
  /** Bypass the mass-delete guard (`?force=1`). */
  force?: boolean;
  dryRun?: boolean;
  /**
   * Answer the field changes of every changed node config (`?diff=full`). Without it an apply
   * lists them only when at most CONFIG_FIELDS_LIMIT configs changed; a dry run always does.
   */
  fullDiff?: boolean;
  /**
   * The caller may add or change commands hosts execute (admin scope): an operator token must not
   * be root on every director through a misc check or a notify hook. Default: may not.
   */
  mayChangeScripts?: boolean;
  /** Set by rollback: the old revision whose spec this one repeats. */
  rolledBackFrom?: number;
  /**
   * Publish to every changed node at once, whatever the site's rollout policy, and even while a
   * rollout runs: only the rollout's own rollback (cloud/src/rollout/) sets it.
   */
  immediate?: boolean;
  now?: Date;
}

export interface ApplyResult {
  site: string;
  /** The site's current revision after the call (unchanged for a dry run or an identical spec). */
  revision: number;
  previousRevision: number;
  /** The spec equals the current revision's: nothing was written (an SRE's no-op re-apply). */
  unchanged: boolean;
  dryRun: boolean;
  /** Nodes that got a new outbox row (or would, on a dry run). */
  publishedNodes: string[];
  /** The rows are held for a staged rollout (spec.rollout) that releases them stage by stage. */
  staged?: boolean;
  diff: SiteDiff;
}

/** The stored site as the decision sees it (a site never applied is revision 0 with nothing). */
export interface CurrentSite {
  revision: number;
  spec: Site | null;
  specHash: string | null;
  /** node name → config hash, for live (not removed) nodes. */
  configHashes: ReadonlyMap<string, string>;
  /** The spec's compiled configs, when the caller has them: the diff's field changes reuse them instead of compiling the spec again. */
  configs?: ReadonlyMap<string, NodeConfig>;
}

/** The new spec, hashed: its canonical hash and each node's compiled-config hash. */
export interface Proposed {
  specHash: string;
  configHashes: ReadonlyMap<string, string>;
  /** The spec's compiled configs, when the caller has them: the diff reuses them instead of compiling again. */
  configs?: ReadonlyMap<string, NodeConfig>;
}

export type ApplyDecision =
  /** Write the result's revision (the caller's write(tx) does it). */
  | { action: 'write'; result: ApplyResult }
  /** Answer the result, write nothing: a dry run or an identical spec. */
  | { action: 'answer'; result: ApplyResult }
  | { action: 'refuse'; error: DomainError };

/**
 * What an apply does, decided without I/O: refuse (name mismatch, stale If-Match, a script
 * change without admin scope, mass delete without force), answer without writing (dry run, identical spec), or write revision N+1 with an
 * outbox row for each node whose compiled config changed.
 */
export function decideApply(input: ApplyInput, current: CurrentSite, proposed: Proposed): ApplyDecision {
  const name = input.site.metadata.name;
  if (input.siteName !== undefined && input.siteName !== name) {
    return {
      action: 'refuse',
      error: new DomainError('invalid', 'metadata.name must equal the site in the URL', [
        { path: 'metadata.name', message: `is "${name}" but the URL names site "${input.siteName}"` },
      ]),
    };
  }
  if (input.ifMatch !== undefined && input.ifMatch !== current.revision) return { action: 'refuse', error: staleRevision(input.ifMatch, current.revision) };
  const scripts = input.mayChangeScripts ? [] : changedScripts(current.spec, input.site);
  if (scripts.length) {
    return {
      action: 'refuse',
      error: new DomainError(
        'forbidden',
        `adding or changing a command that hosts execute needs an admin token: ${scripts.join(', ')}`,
        scripts.map((path) => ({ path, message: 'a command hosts execute: only an admin token may add or change it' })),
      ),
    };
  }
  // Node configs are compared by hash (what decides publishing), so the previous spec is compiled
  // again only when the answer lists field changes.
  const diff = diffSites(current.spec, input.site, proposed.configs, {
    specHashes: { before: current.specHash, after: proposed.specHash },
    configHashes: { before: current.configHashes, after: proposed.configHashes },
    prevConfigs: current.configs,
    configFields: input.dryRun || input.fullDiff ? 'full' : 'auto',
  });
  const dryRun = !!input.dryRun;
  const base = { site: name, previousRevision: current.revision, dryRun, diff };
  if (current.specHash === proposed.specHash) return { action: 'answer', result: { ...base, revision: current.revision, unchanged: true, publishedNodes: [] } };
  const publishedNodes = [...proposed.configHashes].filter(([n, h]) => current.configHashes.get(n) !== h).map(([n]) => n);
  if (dryRun) return { action: 'answer', result: { ...base, revision: current.revision, unchanged: false, publishedNodes } };
  if (diff.massDelete.exceeded && !input.site.spec.allowMassDelete && !input.force) {
    const m = diff.massDelete;
    return {
      action: 'refuse',
      error: new DomainError(
        'mass_delete',
        `this revision removes ${m.services.removed} of ${plural(m.services.total, 'service')} and ${m.realServers.removed} of ${plural(m.realServers.total, 'real server')}; set spec.allowMassDelete: true or pass force`,
        undefined,
        { massDelete: m },
      ),
    };
  }
  return { action: 'write', result: { ...base, revision: current.revision + 1, unchanged: false, publishedNodes } };
}

/** If-Match named a revision that is not the current one (`actual` unknown when a concurrent apply moved it). */
export function staleRevision(expected: number, actual?: number): DomainError {
  return new DomainError(
    'stale_revision',
    `If-Match revision ${expected} is not the current revision${actual !== undefined ? ` (${actual})` : ''}`,
    undefined,
    {
      currentRevision: actual,
    },
  );
}
