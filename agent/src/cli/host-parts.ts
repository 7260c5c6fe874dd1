import { startBfd } from '../bfd/driver.ts';
import { startHealthChecker } from '../checks/health-checker.ts';
import { checkersFor } from '../checks/run-check.ts';
import { ScriptLauncher } from '../scripts/launcher.ts';
import type { ScriptPolicy } from '../scripts/policy.ts';
import { createDryRunVrrpHost } from '../dataplane/vrrp-host-dry-run.ts';
import { createLinuxVrrpHost } from '../dataplane/vrrp-host-linux.ts';
import { startVrrp, type VrrpRunner } from '../vrrp/driver.ts';
import { createLinuxDataplane } from '../dataplane/linux.ts';
import { createDryRunDataplane } from '../dataplane/dry-run.ts';
import type { Dataplane } from '../dataplane/types.ts';
import { wireHealth, type VrrpHostEvent } from '../dataplane/vrrp-host.ts';
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
 * raw sockets, BFD over UDP. dry-run: a simulated host that prints every command it would run and
 * changes nothing, VRRP on the dry-run host (prints, sends nothing), and no health probes or BFD
 * (a dry run sends nothing anywhere; every real server counts as up).
 */
export function hostParts(
  kind: DataplaneKind,
  print: (line: string) => void,
  log: (line: string) => void,
  scriptPolicy: ScriptPolicy,
  taps?: PartTaps,
): HostParts {
  const tapped = (r: VrrpRunner) => (taps?.onVrrpStarted(r), r);
  if (kind === 'dry-run') {
    const host = createDryRunVrrpHost(print);
    return { dataplane: createDryRunDataplane(print), startVrrp: async (o) => tapped(await startVrrp({ ...o, host })) };
  }
  let emitHost: (e: VrrpHostEvent) => void = () => {};
  const scripts = new ScriptLauncher(scriptPolicy, {
    onRefused: (_command, r) => {
      log(`script refused: ${r.detail}`);
      emitHost({ type: 'script_refused', detail: r.detail });
    },
  });
  const checkers = checkersFor(scripts);
  const host = createLinuxVrrpHost({ log, onEvent: (e) => emitHost(e), scripts });
  return {
    agentHealth: () => wireHealth(host.health()),
    onHostEvent: (emit) => (emitHost = emit),
    dataplane: createLinuxDataplane(),
    scripts,
    startHealthChecker: (o) => startHealthChecker({ ...o, log: o.log ?? log, onProbeDone: taps?.onProbeDone, checkers }),
    startVrrp: async (o) => tapped(await startVrrp({ ...o, host })),
    startBfd: (o) => startBfd(o.sessions, { onChange: o.onChange, log: o.log }),
  };
}
