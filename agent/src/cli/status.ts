import { NodeStatus } from '#shared/wire/status.ts';
import { readFileOrNull } from '../state/atomic-file.ts';
import { DEFAULT_CONFIG, stateDirCandidates, statePaths } from '../state/paths.ts';
import { parseFlags } from './args.ts';
import { EXIT, UsageError, type AgentIO } from './io.ts';

/** The PID in the pid file when it is a live process (a stopped agent leaves the file empty). */
async function agentPid(path: string): Promise<number | null> {
  const pid = Number((await readFileOrNull(path))?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Human view of a status. Pure. */
function formatStatus(s: NodeStatus, pid: number | null, now = Date.now()): string {
  const age = s.at ? `${Math.round((now - Date.parse(s.at)) / 1000)} s ago` : 'unknown';
  const lines = [
    `node      ${s.nodeId}`,
    `agent     ${pid ? `running (pid ${pid})` : s.online ? 'not running (it did not stop cleanly)' : 'stopped'}`,
    `updated   ${s.at ?? '-'} (${age})`,
    `revision  applied ${s.appliedRevision ?? '-'}${s.pendingRevision ? `, pending ${s.pendingRevision}` : ''}`,
  ];
  if (s.ipvs) lines.push(`ipvs      ${s.ipvs.ok ? 'ok' : `FAILED: ${s.ipvs.error ?? ''}`}`);
  for (const v of s.vrrp ?? []) lines.push(`vrrp      ${v.instance} (vrid ${v.vrid}) ${v.state} priority ${v.effectivePriority}/${v.priority}`);
  for (const svc of s.services ?? []) {
    lines.push(`service   ${svc.name}${svc.quorum ? '' : ' QUORUM LOST'}`);
    for (const rs of svc.realServers)
      lines.push(`  ${rs.healthy ? 'up  ' : 'DOWN'} ${rs.address}:${rs.port} weight ${rs.weight}${rs.detail ? ` (${rs.detail})` : ''}`);
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
  const f = parseFlags(argv, { 'state-dir': { type: 'string' }, config: { type: 'string' }, output: { type: 'string', short: 'o' } });
  const fmt = f.output ?? 'table';
  if (fmt !== 'table' && fmt !== 'json') throw new UsageError(`-o: expected table or json, got "${fmt}"`);
  // Without --state-dir: the one the config names (--config, else the default config when there
  // is one), else the first default dir (real agent, then dry run) that holds a status.
  let fromConfig: string | undefined;
  if (!f['state-dir']) {
    const configPath = f.config ?? DEFAULT_CONFIG;
    const text = await readFileOrNull(configPath).catch((e: NodeJS.ErrnoException) => {
      if (f.config) throw new UsageError(`--config ${f.config}: ${e.code ?? e.message}`);
      return null;
    });
    if (text === null && f.config) throw new UsageError(`--config ${f.config}: no such file`);
    if (text !== null) {
      try {
        const dir = (JSON.parse(text) as { stateDir?: unknown }).stateDir;
        if (dir !== undefined && typeof dir !== 'string') throw new Error('stateDir is not a string');
        fromConfig = dir;
      } catch (e) {
        if (f.config) throw new UsageError(`--config ${f.config}: ${(e as Error).message}`);
      }
    }
  }
  const candidates = f['state-dir'] ? [f['state-dir']] : fromConfig ? [fromConfig] : stateDirCandidates();
  let paths = statePaths(candidates[0]);
  for (const dir of candidates) {
    if ((await readFileOrNull(statePaths(dir).status)) !== null) {
      paths = statePaths(dir);
      break;
    }
  }
  const path = paths.status;
  const text = await readFileOrNull(path);
  if (text === null) {
    io.err(`no status at ${candidates.map((d) => statePaths(d).status).join(' or ')}: the agent has not run here yet`);
    return EXIT.failure;
  }
  // Only the agent writes this file (a corrupt one is replaced by its next status); here it can
  // only be reported, by name.
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    io.err(`state file ${path} is corrupt (${(e as Error).message}); a running agent replaces it with its next status`);
    return EXIT.failure;
  }
  const parsed = NodeStatus.safeParse(json);
  if (!parsed.success) {
    io.err(`state file ${path} is not a valid status (${parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ')})`);
    return EXIT.failure;
  }
  const pid = await agentPid(paths.pid);
  io.out(fmt === 'json' ? JSON.stringify({ ...parsed.data, running: pid !== null, ...(pid ? { pid } : {}) }, null, 2) : formatStatus(parsed.data, pid));
  return EXIT.ok;
}
