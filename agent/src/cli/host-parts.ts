import { createDryRunVrrpHost } from '../dataplane/vrrp-host-dry-run.ts';
import { createDryRunDataplane } from '../dataplane/dry-run.ts';
import type { Dataplane } from '../dataplane/types.ts';
import type { VrrpHostEvent } from '../dataplane/vrrp-host.ts';
import type { MetricsEndpoint } from '../metrics/endpoint.ts';
import type { ListenAddress } from '../metrics/listen-address.ts';
import type { ScriptLauncher } from '../scripts/launcher.ts';
import type { ScriptPolicy } from '../scripts/policy.ts';
import type { VrrpRunner } from '../vrrp/driver.ts';
import type { AgentHealth } from '#shared/wire/status.ts';
import type { StartBfdPart, StartHealthChecker, StartVrrpPart } from '../engine/parts.ts';
import { UsageError } from './io.ts';

export type DataplaneKind = 'linux' | 'dry-run';

export function parseDataplaneKind(v: string | undefined): DataplaneKind {
  const k = v ?? 'linux';
  if (k !== 'linux' && k !== 'dry-run') throw new UsageError(`--dataplane: expected linux or dry-run, got "${k}"`);
  return k;
}

export interface HostParts {
  dataplane: Dataplane;
  startHealthChecker?: StartHealthChecker;
  startVrrp?: StartVrrpPart;
  startBfd?: StartBfdPart;
  /** The helpers' supervision snapshot for the status document's `health` field (Linux only). */
  agentHealth?: () => AgentHealth;
  /** Runs the spec's notify and quorum hooks (misc checks and VRRP scripts get it here too). */
  scripts?: ScriptLauncher;
  /** Sends the host's own events (a helper restarted, no gratuitous ARP possible, a script refused) to `emit`. */
  onHostEvent?: (emit: (e: VrrpHostEvent) => void) => void;
}

/** Taps for the metrics endpoint: probe durations as they finish, the VRRP runner once started. */
export interface PartTaps {
  onProbeDone(type: string, seconds: number): void;
  onVrrpStarted(r: VrrpRunner): void;
}

/**
 * The real parts for `--dataplane`. linux: the host dataplane, the health checker and VRRP on
 * raw sockets, BFD over UDP (agent/src/cli/host-parts-linux.ts). dry-run: a simulated host that
 * prints every command it would run and changes nothing, VRRP on the dry-run host (prints, sends
 * nothing), and no health probes or BFD (a dry run sends nothing anywhere; every real server
 * counts as up). Each part's code is imported when the part starts: a real server never starts
 * VRRP, checks or BFD, and never loads them.
 */
export async function hostParts(
  kind: DataplaneKind,
  print: (line: string) => void,
  log: (line: string) => void,
  scriptPolicy: ScriptPolicy,
  taps?: PartTaps,
): Promise<HostParts> {
  if (kind === 'linux') return (await import('./host-parts-linux.ts')).linuxHostParts(log, scriptPolicy, taps);
  const host = createDryRunVrrpHost(print);
  return {
    dataplane: createDryRunDataplane(print),
    startVrrp: async (o) => {
      const r = await (await import('../vrrp/driver.ts')).startVrrp({ ...o, host });
      taps?.onVrrpStarted(r);
      return r;
    },
  };
}

/** `--metrics-listen`: the endpoint, its metrics library loaded only when one is asked for. */
export async function startMetrics(at: ListenAddress, log: (line: string) => void): Promise<MetricsEndpoint> {
  return (await import('../metrics/endpoint.ts')).MetricsEndpoint.start(at, log);
}
