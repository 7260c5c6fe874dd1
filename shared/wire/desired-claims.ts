import * as z from 'zod';
import { checkServiceInParts } from '../config/check-service.ts';
import { NodeConfig } from '../config/node-config.ts';
import { KeyTrust } from './key-trust.ts';
import { OverrideList } from '../overrides/override.ts';
import { jsonEqual } from '../util/json-equal.ts';

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

/** What `checkClaimsInSteps` answers: `safeParse`'s shape, as far as a caller reads it. */
export type ClaimsCheck = { success: true; data: DesiredClaims } | { success: false; error: { issues: z.ZodError['issues'] } };

/** The claims with each service left unchecked: the first step of `checkClaimsInSteps`. */
const ClaimsOutline = DesiredClaims.extend({ config: NodeConfig.extend({ services: z.array(z.unknown()) }) });
const Service = NodeConfig.shape.services.element;
type RealServer = DesiredClaims['config']['services'][number]['realServers'][number];

/** A service's issues as the claims' issues: their paths under `config.services[i]`. */
const atService = (i: number, issues: z.ZodError['issues']): z.ZodError['issues'] =>
  issues.map((issue) => ({ ...issue, path: ['config', 'services', i, ...issue.path] }));

/**
 * What `DesiredClaims.safeParse` answers, checked in steps: everything but the services, then each
 * service, awaiting `between()` whenever a step has run for `stepMs`. For a document too large to
 * check in one run of the event loop: a 10,000-node site's director lists 40 services of 250 real
 * servers, 33-44 ms of checking in one call, 1 ms or so each. The same schemas, so the same data
 * and the same refusals; with several faults, the first issue may name another one than the one
 * call would (the services come last).
 *
 * `known`: the services of claims these schemas took before (the document an agent accepted last).
 * A service equal to the known one at its place (`jsonEqual`) is taken without its check: these
 * schemas answer their input (schemas.test.ts), so an equal value is taken as that one was, and the
 * answer is the same. A new revision changes few of a director's services: one real server's
 * weight, one of 40 in a 10,000-node site. Comparing is a walk that makes nothing; the check builds
 * its answer anew, object by object, and cost that director 30-40 ms of its intake. An equal service
 * is answered with the known object itself: configs are never changed in place, on either side. In a
 * service that changed, each real server equal to the known service's at its place is too
 * (checkServiceInParts): one real server's weight is one of that service's 250.
 */
export async function checkClaimsInSteps(json: unknown, between: () => Promise<void>, stepMs = 8, known: readonly unknown[] = []): Promise<ClaimsCheck> {
  const outline = ClaimsOutline.safeParse(json);
  if (!outline.success) return { success: false, error: { issues: outline.error.issues } };
  const services: DesiredClaims['config']['services'] = [];
  let stepStart = performance.now();
  for (const [i, raw] of outline.data.config.services.entries()) {
    if (performance.now() - stepStart >= stepMs) {
      await between();
      stepStart = performance.now();
    }
    if (i < known.length && jsonEqual(raw, known[i])) {
      // The known object, not its equal copy: what the agent keeps per service object (the health
      // checker's checked services and probe keys) carries over, and the copy dies young.
      services.push(known[i] as DesiredClaims['config']['services'][number]);
      continue;
    }
    // A service changed: its real servers equal to the known service's at their place are taken as
    // the known objects, unchecked, as equal services are.
    const was = i < known.length ? (known[i] as { realServers?: unknown }).realServers : undefined;
    const s = Array.isArray(was)
      ? checkServiceInParts(raw, (rs, j) => (j < was.length && jsonEqual(rs, was[j]) ? (was[j] as RealServer) : undefined))
      : Service.safeParse(raw);
    if (!s.success) return { success: false, error: { issues: atService(i, s.error.issues) } };
    services.push(s.data);
  }
  return { success: true, data: { ...outline.data, config: { ...outline.data.config, services } } };
}

/** The claims without `trust`, each service left unchecked. */
const BodyOutline = ClaimsOutline.omit({ trust: true });

/**
 * What `DesiredClaims.omit({ trust: true }).safeParse(claims)` answers, without its data, but a
 * service object in `checked` is taken as checked, and each one that passes joins it. For the
 * cloud's signer, whose claims come from the compiler: configs are never changed in place, and a
 * site's next compile gives back each unchanged service as the very same object (CompileMemo), so
 * a director's services are checked once, not at every revision. A 1,000-node site's director
 * document took 2.3 ms to check whole; a change of one real server's weight now checks one
 * service of four. The same schemas, so the same refusals; with several faults the first issue
 * may name another one than the one call would (the services come last).
 */
export function checkClaimsBody(claims: unknown, checked: WeakSet<object>): { success: true } | { success: false; error: { issues: z.ZodError['issues'] } } {
  const outline = BodyOutline.safeParse(claims);
  if (!outline.success) return { success: false, error: { issues: outline.error.issues } };
  const services = (claims as { config: { services: unknown[] } }).config.services;
  for (const [i, service] of services.entries()) {
    if (checked.has(service as object)) continue;
    const s = Service.safeParse(service);
    if (!s.success) return { success: false, error: { issues: atService(i, s.error.issues) } };
    checked.add(service as object);
  }
  return { success: true };
}
