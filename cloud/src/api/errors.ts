import type { SpecIssue } from '#shared/site/issues.ts';
import { DomainError, type DomainCode } from '../sites/errors.ts';

/** Stable error codes of the API, answered as `{"error": {"code", "message", "issues?"}}` (docs/architecture.md, "Validation and errors"). */
export type ErrorCode =
  | 'bad_request'
  | 'parse_error'
  | 'invalid_spec'
  | 'unauthorized'
  | 'forbidden'
  | 'csrf'
  | 'not_found'
  | 'stale_revision'
  | 'mass_delete'
  | 'invalid_override'
  | 'unsafe_override'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_token'
  | 'already_enrolled'
  | 'rotation_in_progress'
  | 'rollout_in_progress'
  | 'rollout_not_active'
  | 'unavailable'
  | 'rate_limited'
  | 'internal';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

/** The one error type of the API boundary; the app's error handler renders it. */
export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: SpecIssue[],
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { code: ErrorCode; message: string; issues?: SpecIssue[] } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}), ...(this.extra ?? {}) } };
  }
}

/** The one place a domain refusal becomes an HTTP answer. */
const DOMAIN_STATUS: Record<DomainCode, { status: ErrorStatus; code: ErrorCode }> = {
  not_found: { status: 404, code: 'not_found' },
  stale_revision: { status: 409, code: 'stale_revision' },
  mass_delete: { status: 409, code: 'mass_delete' },
  invalid: { status: 422, code: 'invalid_spec' },
  invalid_token: { status: 401, code: 'invalid_token' },
  already_enrolled: { status: 409, code: 'already_enrolled' },
  forbidden: { status: 403, code: 'forbidden' },
  rotation_in_progress: { status: 409, code: 'rotation_in_progress' },
  rollout_in_progress: { status: 409, code: 'rollout_in_progress' },
  rollout_not_active: { status: 409, code: 'rollout_not_active' },
  invalid_override: { status: 422, code: 'invalid_override' },
  unsafe_override: { status: 409, code: 'unsafe_override' },
};

function fromDomain(err: DomainError): ApiError {
  const { status, code } = DOMAIN_STATUS[err.code];
  return new ApiError(status, code, err.message, err.issues, err.details);
}

/** ApiError or DomainError → ApiError; anything else is not an answer the API planned (null). */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof DomainError) return fromDomain(err);
  return null;
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
