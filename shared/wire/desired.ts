import { z } from 'zod';
import { NodeConfig } from '../config/node-config.ts';
import { KeyTrust } from './key-trust.ts';

/**
 * Claims of the JWS published retained on `.../desired` (EdDSA/Ed25519, header kid = signing key id).
 * revision is the site revision number; the agent rejects one not newer than it applied. A rollback
 * (by hand, or a staged rollout's) is a new, higher revision that repeats an older spec, never an
 * older number sent again: replay protection needs no exception for it.
 */
export const DesiredClaims = z.strictObject({
  nodeId: z.string().min(1),
  site: z.string().min(1),
  revision: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issuedAt: z.string().datetime(),
  config: NodeConfig,
  /** The cloud's key set (key rotation); absent from documents signed before rotation existed. */
  trust: KeyTrust.optional(),
});
export type DesiredClaims = z.infer<typeof DesiredClaims>;

export const JWS_ALG = 'EdDSA';
export const JWS_TYP = 'lvsfleet-desired+jws';
