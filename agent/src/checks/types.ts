import type { ResolvedCheck } from '#shared/config/node-config.ts';
import { realServerKey } from '#shared/ipvs/model.ts';

/** What a checker reports for one attempt. `weight` is set only by misc_dynamic exits 2–255. */
export interface ProbeOutcome {
  ok: boolean;
  /** Human detail: `HTTP 503 on /health`, `connect ECONNREFUSED`, `timeout after 3000 ms`. */
  detail: string;
  weight?: number | null;
}

/** One checker: runs a single attempt of `check`, honouring `signal` (aborted at connect_timeout). */
export type Checker = (check: ResolvedCheck, signal: AbortSignal) => Promise<ProbeOutcome>;

/** A real server's health as the agent sees it (the `state()` map's value). */
export interface TargetHealth {
  up: boolean;
  /** misc_dynamic weight; null means "the configured weight". */
  weight: number | null;
  detail: string;
  /** False until the health check has run once: `up` is then keepalived's starting assumption, not a finding. */
  checked: boolean;
}

/** Emitted when a real server goes up or down, or its dynamic weight changes while up. */
export interface Transition {
  service: string;
  address: string;
  port: number;
  /** Check type (`tcp`, `http`, …), or `none` when a removed check brings a server back up. */
  check: string;
  up: boolean;
  weight: number | null;
  detail: string;
}

/** Error codes of the health-check boundary (stable; they appear in details and logs). */
export type CheckErrorCode = 'TIMEOUT' | 'BAD_PARAMS' | 'NOT_PERMITTED' | 'PROTOCOL';

/** The one error type checkers throw; `message` is the human detail. */
export class CheckError extends Error {
  constructor(
    readonly code: CheckErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CheckError';
  }
}

/** realServerKey(service name, real server) — the key of the state map (interfaces file). */
export const targetKey = (service: string, address: string, port: number): string => realServerKey(service, { address, port });
