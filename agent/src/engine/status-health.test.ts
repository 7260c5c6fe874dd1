import { describe, expect, it } from 'vitest';
import { NodeStatus } from '#shared/wire/status.ts';
import { buildStatus, statusFileText } from './status.ts';

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

describe('statusFileText: the status file', () => {
  it('reads back as the whole status, from its JSON without the time and the time', () => {
    const status = buildStatus({ ...base, errors: ['x "quoted"'] }, at);
    const { at: time, ...rest } = status;
    const text = statusFileText(time, JSON.stringify(rest));
    expect(JSON.parse(text)).toEqual(status);
    expect(text.startsWith('{"at":"2026-11-30T02:14:00.000Z",')).toBe(true);
  });

  it('is the JSON alone without a time, and a status of the time alone is one member', () => {
    expect(statusFileText(undefined, '{"nodeId":"a"}')).toBe('{"nodeId":"a"}');
    expect(JSON.parse(statusFileText('2026-01-02T03:04:05.000Z', '{}'))).toEqual({ at: '2026-01-02T03:04:05.000Z' });
  });
});

describe('buildStatus: the helpers’ supervision in the status document', () => {
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
