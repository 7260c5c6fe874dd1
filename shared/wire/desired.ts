// The claims' schema is in ./desired-claims.ts, imported only where a document is checked: building
// it (the node config's schemas) was part of every agent start, which checks no schema when it
// boots from a cache this build checked. What every reader needs is here, without zod.
import type { DesiredClaims } from './desired-claims.ts';

export type { DesiredClaims };

/** What a document supersedes by: the revision, then the override generation (0 when absent). */
export interface DocumentVersion {
  revision: number;
  overridesVersion: number;
}

export const versionOf = (c: Pick<DesiredClaims, 'revision' | 'overridesVersion'>): DocumentVersion => ({
  revision: c.revision,
  overridesVersion: c.overridesVersion ?? 0,
});

/** a is newer than b: a higher revision, or the same revision with a higher override generation. */
export const isNewer = (a: DocumentVersion, b: DocumentVersion): boolean =>
  a.revision > b.revision || (a.revision === b.revision && a.overridesVersion > b.overridesVersion);

export const formatVersion = (v: DocumentVersion): string => `revision ${v.revision}${v.overridesVersion ? ` (overrides ${v.overridesVersion})` : ''}`;

export const JWS_ALG = 'EdDSA';
export const JWS_TYP = 'lvsfleet-desired+jws';
