/** Where the CLI writes; tests pass their own. */
export interface AgentIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const processIO: AgentIO = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** Exit codes: 0 success, 1 runtime failure, 2 invalid input. */
export const EXIT = { ok: 0, failure: 1, invalid: 2 } as const;

export class UsageError extends Error {}

export const AGENT_VERSION = '0.1.0';
