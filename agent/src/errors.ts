/**
 * One error type per agent boundary, each with a stable code that logs, events and tests key on.
 */
export type AgentErrorCode =
  | 'EXEC_NOT_FOUND'
  | 'EXEC_TIMEOUT'
  | 'EXEC_FAILED'
  | 'IPVS_UNAVAILABLE'
  | 'IPVS_REJECTED'
  | 'HOST_REJECTED'
  | 'MASS_DELETE'
  | 'STATE_CORRUPT'
  | 'INVALID_INPUT';

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

/** The message of anything thrown, for logs and events. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
