/**
 * What failed, per part of the engine. Each pass owns the entries of the parts it ran and leaves
 * the others alone: a health-driven IPVS reconcile cannot erase a VRRP failure, and a periodic
 * verification keeps the health checker's failure until the next apply retries it.
 */
const PARTS = ['checks', 'vrrp', 'bfd', 'sysctls', 'ipvs', 'realserver'] as const;
export type Part = (typeof PARTS)[number];
export type PartErrors = Readonly<Partial<Record<Part, string>>>;

/** `errors` with `part` failed (a message) or converged (null). */
export function withPart(errors: PartErrors, part: Part, error: string | null): PartErrors {
  const { [part]: _old, ...rest } = errors;
  return error === null ? rest : { ...rest, [part]: error };
}

/** Only the entries of `parts`. */
export function pickParts(errors: PartErrors, parts: readonly Part[]): PartErrors {
  const out: Partial<Record<Part, string>> = {};
  for (const p of parts) if (errors[p] !== undefined) out[p] = errors[p];
  return out;
}

/** The form of the status document and of apply.failed: `part: message`, in the order the parts run. */
export function flattenErrors(errors: PartErrors): string[] {
  return PARTS.filter((p) => errors[p] !== undefined).map((p) => `${p}: ${errors[p]}`);
}
