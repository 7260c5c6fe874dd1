import * as z from 'zod';
import { NodeConfig } from '../config/node-config.ts';
import { KeyTrust } from './key-trust.ts';
import { OverrideList } from '../overrides/override.ts';

/**
 * Claims of the JWS published retained on `.../desired` (EdDSA/Ed25519, header kid = signing key id).
 * revision is the site revision number. A rollback (by hand, or a staged rollout's) is a new, higher
 * revision that repeats an older spec, never an older number sent again: replay protection needs no
 * exception for it. `overrides` are the site's active operational overrides that concern this node
 * (the agent layers them on `config` and expires them on its own clock); `overridesVersion` is the
 * site's override generation, which grows with every change to them, so a document for the same
 * revision with newer overrides supersedes the older one. The agent rejects a document whose
 * (revision, overridesVersion) is older than the one it accepted, and takes the same one again only
 * as a copy re-signed with a newer key set (`trust`). Both override fields are optional: documents
 * from before overrides existed are revision-only.
 */
export const DesiredClaims = z.strictObject({
  nodeId: z.string().min(1),
  site: z.string().min(1),
  revision: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  overridesVersion: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  issuedAt: z.string().datetime(),
  config: NodeConfig,
  /** The cloud's key set (key rotation); absent from documents signed before rotation existed. */
  trust: KeyTrust.optional(),
  overrides: OverrideList.optional(),
});
export type DesiredClaims = z.infer<typeof DesiredClaims>;
