import { createLinuxDataplane } from '../dataplane/linux.ts';
import { createLinuxVrrpHost } from '../dataplane/vrrp-host-linux.ts';
import { wireHealth, type VrrpHostEvent } from '../dataplane/vrrp-host.ts';
import { ScriptLauncher } from '../scripts/launcher.ts';
import type { ScriptPolicy } from '../scripts/policy.ts';
import type { HostParts, PartTaps } from './host-parts.ts';

/**
 * `--dataplane linux`: the host dataplane, the health checker and VRRP on raw sockets, BFD over
 * UDP. The VRRP engine, the checkers and BFD are imported by their part's first start (a
 * director's first apply); a real server never starts them and never loads their code.
 */
export function linuxHostParts(log: (line: string) => void, scriptPolicy: ScriptPolicy, taps?: PartTaps): HostParts {
  let emitHost: (e: VrrpHostEvent) => void = () => {};
  const scripts = new ScriptLauncher(scriptPolicy, {
    onRefused: (_command, r) => {
      log(`script refused: ${r.detail}`);
      emitHost({ type: 'script_refused', detail: r.detail });
    },
  });
  const host = createLinuxVrrpHost({ log, onEvent: (e) => emitHost(e), scripts });
  return {
    agentHealth: () => wireHealth(host.health()),
    onHostEvent: (emit) => (emitHost = emit),
    dataplane: createLinuxDataplane(),
    scripts,
    startHealthChecker: async (o) => {
      const [{ startHealthChecker }, { checkersFor }] = await Promise.all([import('../checks/health-checker.ts'), import('../checks/run-check.ts')]);
      return startHealthChecker({ ...o, log: o.log ?? log, onProbeDone: taps?.onProbeDone, checkers: checkersFor(scripts) });
    },
    startVrrp: async (o) => {
      const r = await (await import('../vrrp/driver.ts')).startVrrp({ ...o, host });
      taps?.onVrrpStarted(r);
      return r;
    },
    startBfd: async (o) => (await import('../bfd/driver.ts')).startBfd(o.sessions, { onChange: o.onChange, log: o.log }),
  };
}
