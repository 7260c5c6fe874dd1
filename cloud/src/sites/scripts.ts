import type { HealthCheck } from '#shared/site/health-check.ts';
import type { Site } from '#shared/site/site.ts';

/** One thing a spec makes a host execute: where it is (path) and what runs, as whom. */
interface ScriptField {
  /** Stable across reorders: names, not indices (`services/web/rs/rs1:80/healthCheck`). */
  key: string;
  /** The path an operator sees in the refusal (`spec.services[0].realServers[1].healthCheck.command`). */
  path: string;
  value: string;
}

function scriptFields(site: Site | null): ScriptField[] {
  if (!site) return [];
  const out: ScriptField[] = [];
  const add = (key: string, path: string, command: string | undefined, user?: string) => {
    if (command !== undefined) out.push({ key, path, value: JSON.stringify([command, user ?? null]) });
  };
  const check = (key: string, path: string, hc: HealthCheck | undefined) => {
    if (hc?.type === 'misc') add(`${key}/healthCheck`, `${path}.healthCheck.command`, hc.command, hc.user);
  };
  const notify = (key: string, path: string, n: Partial<Record<'master' | 'backup' | 'fault' | 'stop' | 'any', string>> | undefined) => {
    for (const [k, cmd] of Object.entries(n ?? {})) add(`${key}/notify/${k}`, `${path}.notify.${k}`, cmd);
  };
  const { spec } = site;
  (spec.vrrpScripts ?? []).forEach((s, i) => add(`vrrpScripts/${s.name}`, `spec.vrrpScripts[${i}].script`, s.script, s.user));
  (spec.vrrp ?? []).forEach((v, i) => notify(`vrrp/${v.name}`, `spec.vrrp[${i}]`, v.notify));
  (spec.syncGroups ?? []).forEach((g, i) => notify(`syncGroups/${g.name}`, `spec.syncGroups[${i}]`, g.notify));
  (spec.services ?? []).forEach((svc, i) => {
    const key = `services/${svc.name}`;
    const path = `spec.services[${i}]`;
    add(`${key}/quorumUp`, `${path}.quorumUp`, svc.quorumUp);
    add(`${key}/quorumDown`, `${path}.quorumDown`, svc.quorumDown);
    check(key, path, svc.healthCheck);
    svc.realServers.forEach((rs, j) => {
      const rsKey = `${key}/rs/${rs.node ?? rs.address}:${rs.port ?? ''}`;
      const rsPath = `${path}.realServers[${j}]`;
      add(`${rsKey}/notifyUp`, `${rsPath}.notifyUp`, rs.notifyUp);
      add(`${rsKey}/notifyDown`, `${rsPath}.notifyDown`, rs.notifyDown);
      check(rsKey, rsPath, rs.healthCheck);
    });
  });
  return out;
}

/**
 * The paths of the proposed spec where a command a host executes (misc checks, vrrp_script,
 * notify hooks, quorum_up/down) was added or changed, command or user, against the current spec.
 * Removing one needs no privilege. Pure.
 */
export function changedScripts(current: Site | null, proposed: Site): string[] {
  const before = new Map(scriptFields(current).map((f) => [f.key, f.value]));
  return scriptFields(proposed)
    .filter((f) => before.get(f.key) !== f.value)
    .map((f) => f.path);
}
