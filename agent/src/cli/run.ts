import { parseListenAddress, type ListenAddress } from '../metrics/listen-address.ts';
import { DEFAULT_CONFIG, defaultStateDir } from '../state/paths.ts';
import { parseFlags } from './args.ts';
import { parseDataplaneKind } from './host-parts.ts';
import { UsageError, type AgentIO } from './io.ts';
import { scriptPolicyFromFlags } from './script-flags.ts';

/**
 * `lvsfleet-agent run`: cloud mode from the enrolled config, or standalone with --spec/--node.
 * `--metrics-listen ADDR:PORT` serves Prometheus metrics there (off by default). The spec's scripts
 * (misc checks, track scripts, notify hooks) run only from `--allow-scripts DIR` (repeatable; none
 * by default) as `--script-user USER` (default `keepalived_script` or `nobody`); in cloud mode the
 * config file's `scripts.allow` / `scripts.user` stand in for flags not given.
 * Standalone `--overrides FILE`: operational overrides (a JSON list), layered like the cloud's, re-read on SIGHUP.
 */
export async function runCommand(argv: string[], io: AgentIO): Promise<number> {
  const f = parseFlags(argv, {
    spec: { type: 'string' },
    node: { type: 'string' },
    config: { type: 'string' },
    'state-dir': { type: 'string' },
    dataplane: { type: 'string' },
    'metrics-listen': { type: 'string' },
    'allow-scripts': { type: 'string', multiple: true },
    'script-user': { type: 'string' },
    overrides: { type: 'string' },
  });
  const dataplane = parseDataplaneKind(f.dataplane);
  let metricsListen: ListenAddress | undefined;
  if (f['metrics-listen'] !== undefined) {
    const at = parseListenAddress(f['metrics-listen']);
    if (!at) throw new UsageError(`--metrics-listen: expected ADDR:PORT (e.g. 127.0.0.1:9650 or [::1]:9650), got "${f['metrics-listen']}"`);
    metricsListen = at;
  }
  if (f.spec !== undefined || f.node !== undefined) {
    if (!f.spec || !f.node) throw new UsageError('standalone mode needs both --spec FILE and --node NAME');
    if (f.config) throw new UsageError('--config is for cloud mode; standalone mode takes --spec and --node');
    const scripts = await scriptPolicyFromFlags(f['allow-scripts'], f['script-user']);
    // Standalone and cloud mode each load their own code (the cloud link, signature checks) only when chosen.
    const { runStandalone } = await import('./standalone.ts');
    return runStandalone(
      { spec: f.spec, node: f.node, stateDir: f['state-dir'] ?? defaultStateDir(dataplane), dataplane, metricsListen, scripts, overrides: f.overrides },
      io,
    );
  }
  if (f.overrides !== undefined) throw new UsageError('--overrides is for standalone mode; in cloud mode overrides come with the signed document');
  const scriptFlags = { allow: f['allow-scripts'], user: f['script-user'] };
  const { runCloud } = await import('./cloud-run.ts');
  return runCloud({ configPath: f.config ?? DEFAULT_CONFIG, stateDir: f['state-dir'], dataplane, metricsListen, scriptFlags }, io);
}
