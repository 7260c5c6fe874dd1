import { DEFAULT_CONFIG, DEFAULT_STATE_DIR } from '../state/paths.ts';
import { parseFlags } from './args.ts';
import { runCloud } from './cloud-run.ts';
import { parseDataplaneKind } from './host-parts.ts';
import { UsageError, type AgentIO } from './io.ts';
import { runStandalone } from './standalone.ts';

/** `lvsfleet-agent run`: cloud mode from the enrolled config, or standalone with --spec/--node. */
export async function runCommand(argv: string[], io: AgentIO): Promise<number> {
  const f = parseFlags(argv, {
    spec: { type: 'string' },
    node: { type: 'string' },
    config: { type: 'string' },
    'state-dir': { type: 'string' },
    dataplane: { type: 'string' },
  });
  const dataplane = parseDataplaneKind(f.dataplane);
  const stateDir = f['state-dir'] ?? DEFAULT_STATE_DIR;
  if (f.spec !== undefined || f.node !== undefined) {
    if (!f.spec || !f.node) throw new UsageError('standalone mode needs both --spec FILE and --node NAME');
    if (f.config) throw new UsageError('--config is for cloud mode; standalone mode takes --spec and --node');
    return runStandalone({ spec: f.spec, node: f.node, stateDir, dataplane }, io);
  }
  return runCloud({ configPath: f.config ?? DEFAULT_CONFIG, stateDir: f['state-dir'], dataplane }, io);
}
