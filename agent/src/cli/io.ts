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

declare const __LVSFLEET_AGENT_BUILD__: string | undefined;

/**
 * This build's identity: a hash of the bundle's own files, written into it by agent/build.mjs;
 * null when the agent runs from source. The intake keys what it may reuse from its cache to it.
 */
export const AGENT_BUILD: string | null = typeof __LVSFLEET_AGENT_BUILD__ === 'string' ? __LVSFLEET_AGENT_BUILD__ : null;
