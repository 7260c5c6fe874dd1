import type { SpecIssue } from '#shared/site/issues.ts';

/**
 * Why the domain refused a request. `details` are machine-readable facts the caller may show
 * (the current revision, the mass-delete counts).
 */
export type DomainCode =
  | 'not_found'
  | 'stale_revision'
  | 'mass_delete'
  | 'invalid'
  | 'invalid_token'
  | 'already_enrolled'
  | 'forbidden'
  | 'rotation_in_progress'
  | 'rollout_in_progress'
  | 'rollout_not_active'
  /** An override that names nothing in the site, or a bad `for`/`until`. */
  | 'invalid_override'
  /** An override that would leave a service without a serving real server or a VRRP group without a possible MASTER (needs force with a reason). */
  | 'unsafe_override';

/** The one error type of cloud/src/sites: no HTTP here; the API maps codes to statuses in one place. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    readonly issues?: SpecIssue[],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
