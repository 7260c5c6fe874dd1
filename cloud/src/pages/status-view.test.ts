import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSite } from '#shared/site/parse.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { buildStatusView, type NodeReport } from './status-view.ts';
import { renderStatusPage } from './status-page.ts';

const parsed = parseSite(readFileSync(new URL('../../../examples/seeds-lvs-dr.yaml', import.meta.url), 'utf8'));
if (!parsed.ok) throw new Error('example must be valid');
const site = parsed.site;
const now = new Date('2026-01-01T00:00:00Z');

function director(name: string, state: 'MASTER' | 'BACKUP', healthy: Record<string, boolean>, online = true): NodeReport {
  const status: NodeStatus = {
    nodeId: `bj-dc1.${name}`,
    online,
    appliedRevision: 3,
    vrrp: [{ instance: 'VI_1', vrid: 50, state, priority: 100, effectivePriority: 100 }],
    services: [
      {
        name: 'web',
        quorum: true,
        realServers: Object.entries(healthy).map(([a, h]) => ({ address: a, port: 80, healthy: h, weight: 1 })),
      },
    ],
  };
  return { name, role: 'director', desiredRevision: 3, status };
}
const rs = (name: string): NodeReport => ({
  name,
  role: 'realserver',
  desiredRevision: 3,
  status: { nodeId: `bj-dc1.${name}`, online: true, appliedRevision: 3 },
});
const allUp = { '192.168.1.132': true, '192.168.1.133': true, '192.168.1.113': true };

describe('buildStatusView', () => {
  it('is operational when one master reports every real server healthy', () => {
    const v = buildStatusView(site, 3, [director('dr1', 'MASTER', allUp), director('dr2', 'BACKUP', allUp), rs('rs1'), rs('rs2')], now);
    expect(v.overall).toBe('operational');
    expect(v.vrrp).toEqual([
      {
        instance: 'VI_1',
        vrid: 50,
        masters: ['dr1'],
        states: [
          { node: 'dr1', state: 'MASTER' },
          { node: 'dr2', state: 'BACKUP' },
        ],
        problem: null,
      },
    ]);
    expect(v.services[0]).toMatchObject({ name: 'web', endpoint: 'tcp 192.168.1.150:80', state: 'up', healthy: 3, total: 3, reportedBy: 'dr1' });
  });

  it("takes the master's report over the backup's", () => {
    const v = buildStatusView(
      site,
      3,
      [director('dr1', 'BACKUP', allUp), director('dr2', 'MASTER', { ...allUp, '192.168.1.133': false }), rs('rs1'), rs('rs2')],
      now,
    );
    expect(v.services[0]).toMatchObject({ state: 'degraded', healthy: 2, reportedBy: 'dr2' });
    expect(v.overall).toBe('degraded');
  });

  it('flags split brain and no master', () => {
    const split = buildStatusView(site, 3, [director('dr1', 'MASTER', allUp), director('dr2', 'MASTER', allUp)], now);
    expect(split.vrrp[0].problem).toBe('split_brain');
    expect(split.overall).toBe('degraded');
    const none = buildStatusView(site, 3, [director('dr1', 'BACKUP', allUp), director('dr2', 'BACKUP', allUp)], now);
    expect(none.vrrp[0].problem).toBe('no_master');
    expect(none.overall).toBe('outage');
  });

  it('is an outage when every real server is down, unknown with no reports', () => {
    const down = buildStatusView(site, 3, [director('dr1', 'MASTER', { '192.168.1.132': false, '192.168.1.133': false, '192.168.1.113': false })], now);
    expect(down.services[0].state).toBe('down');
    expect(down.overall).toBe('outage');
    const silent = buildStatusView(site, 3, [], now);
    expect(silent.overall).toBe('unknown');
    expect(silent.services[0].state).toBe('unknown');
    expect(silent.nodes.every((n) => n.online === null)).toBe(true);
  });

  it('ignores offline directors and marks nodes behind on revision as stale', () => {
    const stale: NodeReport = { ...rs('rs1'), desiredRevision: 4 };
    const v = buildStatusView(site, 4, [director('dr1', 'MASTER', allUp, false), director('dr2', 'MASTER', allUp), stale], now);
    expect(v.vrrp[0].states[0]).toEqual({ node: 'dr1', state: 'OFFLINE' });
    expect(v.vrrp[0].masters).toEqual(['dr2']);
    expect(v.nodes.find((n) => n.name === 'rs1')!.stale).toBe(true);
    expect(v.overall).toBe('degraded');
  });
});

describe('renderStatusPage', () => {
  it('escapes names and leaves real-server addresses out', () => {
    const v = buildStatusView(site, 3, [director('dr1', 'MASTER', allUp)], now);
    v.services[0].name = '<script>x</script>';
    const html = renderStatusPage(v);
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>x');
    expect(html).not.toContain('192.168.1.132');
    expect(html).toContain('data-overall="operational"');
  });
});
