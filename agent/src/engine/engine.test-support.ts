import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileNode } from '#shared/compiler/compile.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { validateSite } from '#shared/site/validate.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { HealthCheckerPart, HealthTransition, StartHealthChecker } from './parts.ts';

/** Compiles a small site (test ranges 10.99.x.x) for one node. */
export function configFor(spec: Record<string, unknown>, node: string): NodeConfig {
  const r = validateSite({ apiVersion: 'lvsfleet/v1', kind: 'Site', metadata: { name: 't' }, spec });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return compileNode(r.site, node);
}

export const NODES = [
  { name: 'd1', role: 'director', address: '10.99.0.11', interface: 'eth0' },
  { name: 'rs1', role: 'realserver', address: '10.99.0.21' },
  { name: 'rs2', role: 'realserver', address: '10.99.0.22' },
];

/**
 * A health checker driven by the test: set() flips a real server and reports the transition
 * the way startHealthChecker does. It stands in for probes to hosts that do not exist here.
 */
export function manualChecker(): { start: StartHealthChecker; set(service: string, address: string, port: number, up: boolean, weight?: number | null): void } {
  const state = new Map<string, { up: boolean; weight: number | null; detail: string; checked: boolean }>();
  let notify: ((t: HealthTransition) => void) | null = null;
  const part: HealthCheckerPart = { update: () => {}, state: () => state, stop: async () => {} };
  return {
    start: (o) => {
      notify = o.onTransition;
      return part;
    },
    set(service, address, port, up, weight = null) {
      state.set(`${service}|${address}:${port}`, { up, weight, detail: up ? 'ok' : 'connect ECONNREFUSED', checked: true });
      notify?.({ service, address, port, check: 'tcp', up, weight, detail: up ? 'ok' : 'connect ECONNREFUSED' });
    },
  };
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-agent-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function eventsOf(list: NodeEvent[], type: NodeEvent['type']): NodeEvent[] {
  return list.filter((e) => e.type === type);
}
