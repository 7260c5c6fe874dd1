import { NodeStatus } from '../../../shared/wire/status.ts';
import { readFileOrNull } from '../state/atomic-file.ts';
import { DEFAULT_STATE_DIR, statePaths } from '../state/paths.ts';
import { parseFlags } from './args.ts';
import { EXIT, UsageError, type AgentIO } from './io.ts';

/** Human view of a status. Pure. */
export function formatStatus(s: NodeStatus, now = Date.now()): string {
  const age = s.at ? `${Math.round((now - Date.parse(s.at)) / 1000)} s ago` : 'unknown';
  const lines = [
    `node      ${s.nodeId}${s.online ? '' : ' (stopped)'}`,
    `updated   ${s.at ?? '-'} (${age})`,
    `revision  applied ${s.appliedRevision ?? '-'}${s.pendingRevision ? `, pending ${s.pendingRevision}` : ''}`,
  ];
  if (s.ipvs) lines.push(`ipvs      ${s.ipvs.ok ? 'ok' : `FAILED: ${s.ipvs.error ?? ''}`}`);
  for (const v of s.vrrp ?? []) lines.push(`vrrp      ${v.instance} (vrid ${v.vrid}) ${v.state} priority ${v.effectivePriority}/${v.priority}`);
  for (const svc of s.services ?? []) {
    lines.push(`service   ${svc.name}${svc.quorum ? '' : ' QUORUM LOST'}`);
    for (const rs of svc.realServers) lines.push(`  ${rs.healthy ? 'up  ' : 'DOWN'} ${rs.address}:${rs.port} weight ${rs.weight}${rs.detail ? ` (${rs.detail})` : ''}`);
  }
  if (s.realServer) {
    lines.push(`realserver ${s.realServer.ok ? 'ok' : 'FAILED'}`);
    for (const d of s.realServer.drift ?? []) lines.push(`  drift repaired: ${d}`);
    for (const w of s.realServer.warnings ?? []) lines.push(`  warning: ${w}`);
  }
  for (const e of s.errors ?? []) lines.push(`error     ${e}`);
  return lines.join('\n');
}

/** `lvsfleet-agent status [-o json]`: answered from the state dir alone, cloud or not. */
export async function runStatus(argv: string[], io: AgentIO): Promise<number> {
  const f = parseFlags(argv, { 'state-dir': { type: 'string' }, output: { type: 'string', short: 'o' } });
  const fmt = f.output ?? 'table';
  if (fmt !== 'table' && fmt !== 'json') throw new UsageError(`-o: expected table or json, got "${fmt}"`);
  const path = statePaths(f['state-dir'] ?? DEFAULT_STATE_DIR).status;
  const text = await readFileOrNull(path);
  if (text === null) {
    io.err(`no status at ${path}: the agent has not run here yet`);
    return EXIT.failure;
  }
  const parsed = NodeStatus.safeParse(JSON.parse(text));
  if (!parsed.success) {
    io.err(`${path}: not a valid status file`);
    return EXIT.failure;
  }
  io.out(fmt === 'json' ? JSON.stringify(parsed.data, null, 2) : formatStatus(parsed.data));
  return EXIT.ok;
}
