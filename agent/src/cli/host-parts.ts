import { startHealthChecker } from '../checks/index.ts';
import { createLinuxDataplane } from '../dataplane/linux.ts';
import { createDryRunDataplane } from '../dataplane/memory-host.ts';
import type { Dataplane } from '../dataplane/types.ts';
import type { StartHealthChecker, StartVrrpPart } from '../engine/parts.ts';
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
}

/**
 * The real parts for `--dataplane`. linux: the host dataplane and the health checker. dry-run:
 * a simulated host that prints every command it would run and changes nothing, and no health
 * probes either (a dry run sends nothing anywhere; every real server counts as up).
 */
export function hostParts(kind: DataplaneKind, print: (line: string) => void, log: (line: string) => void): HostParts {
  if (kind === 'dry-run') return { dataplane: createDryRunDataplane(print) };
  return {
    dataplane: createLinuxDataplane(),
    startHealthChecker: (o) => startHealthChecker({ ...o, log: o.log ?? log }),
  };
}
