/**
 * The lab's deliberately broken agent, for the lab's own self-test (never shipped, never part
 * of the agent): preloaded with `node --import /lab/break-agent.mjs /lvsfleet-agent.mjs …`, it
 * rewrites the agent's IPVS batches so that no real server is ever added (`-a` lines dropped,
 * `ipvsadm -a` calls turned into no-ops). A lab that still passes with it proves nothing.
 */
import { syncBuiltinESMExports } from 'node:module';
import cp from 'node:child_process';

const realSpawn = cp.spawn;
const dropAdds = "grep -v -- '^-a' | ipvsadm -R";

function rewrite(file: string, args: readonly string[]): [string, string[]] {
  // The agent may run tools through `ip netns exec NS tool …`; look at the tool itself.
  const prefix = file === 'ip' && args[0] === 'netns' && args[1] === 'exec' ? ['ip', ...args.slice(0, 3)] : [];
  const [tool, ...rest] = prefix.length ? args.slice(3) : [file, ...args];
  const base = tool.split('/').pop();
  let cmd: string[] = [tool, ...rest];
  if (base === 'ipvsadm-restore' || (base === 'ipvsadm' && rest.includes('-R'))) cmd = ['sh', '-c', dropAdds];
  else if (base === 'ipvsadm' && (rest.includes('-a') || rest.includes('--add-server'))) cmd = ['true'];
  const full = [...prefix, ...cmd];
  return [full[0], full.slice(1)];
}

(cp as { spawn: unknown }).spawn = function brokenSpawn(file: string, args?: readonly string[] | object, options?: object) {
  if (!Array.isArray(args)) return (realSpawn as (...a: unknown[]) => unknown)(file, args, options);
  const [f, a] = rewrite(file, args);
  return realSpawn(f, a, options as cp.SpawnOptions);
};
syncBuiltinESMExports();
process.stderr.write('kernel-lab: BROKEN AGENT (never adds real servers)\n');
