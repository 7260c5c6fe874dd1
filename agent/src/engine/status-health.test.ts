import { describe, expect, it } from 'vitest';
import { NodeStatus } from '#shared/wire/status.ts';
import { buildStatus } from './status.ts';

describe('buildStatus: the helpers’ supervision in the status document', () => {
  const base = {
    nodeId: 's.dr1',
    config: null,
    appliedRevision: 1,
    pendingRevision: null,
    vrrp: null,
    bfd: null,
    health: null,
    quorumUp: () => true,
    ipvs: null,
    role: null,
    errors: [],
  };
  const at = new Date('2026-11-30T02:14:00Z');

  it('carries the host’s health (degraded when no gratuitous ARP is possible), and the wire schema accepts it', () => {
    const agentHealth = {
      status: 'degraded' as const,
      garpAvailable: false,
      helpers: [{ name: 'ip-monitor', state: 'restarting' as const, restarts: 2, lastError: 'exited (SIGKILL)', since: at.toISOString() }],
    };
    const s = buildStatus({ ...base, agentHealth }, at);
    expect(s.health).toEqual(agentHealth);
    expect(NodeStatus.parse(s).health?.status).toBe('degraded');
  });

  it('has no health field where the host reports none (dry-run)', () => {
    expect(buildStatus({ ...base, agentHealth: null }, at)).not.toHaveProperty('health');
  });
});
