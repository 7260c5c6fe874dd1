import { describe, expect, it } from 'vitest';
import { NODES, configFor } from '../engine/engine.test-support.ts';
import { desiredIpvs } from './desired.ts';
import { quorumStep } from './quorum.ts';

const up = () => ({ up: true, weight: null });
const down = () => ({ up: false, weight: null });

describe('desiredIpvs', () => {
  const svc = (extra: Record<string, unknown>) =>
    configFor({ nodes: NODES, services: [{ name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1', weight: 4 }], ...extra }] }, 'd1').services;

  it('maps scheduler, flags, persistence and one-packet; sorry_server_inhibit keeps the sorry server at weight 0', () => {
    const [s] = desiredIpvs(
      svc({
        protocol: 'udp',
        scheduler: 'sh',
        schedulerFlags: ['sh-port'],
        persistence: { timeout: '5m', netmask: '255.255.255.0' },
        onePacket: true,
        sorryServer: { address: '10.99.0.99', inhibit: true },
      }),
      up,
      () => true,
    );
    expect(s).toMatchObject({
      protocol: 'udp',
      scheduler: 'sh',
      flags: ['sh-port'],
      persistence: { timeoutS: 300, netmask: '255.255.255.0' },
      onePacket: true,
    });
    expect(s.dests).toEqual([
      { address: '10.99.0.21', port: 80, forwarding: 'dr', weight: 4, upperThreshold: 0, lowerThreshold: 0 },
      { address: '10.99.0.99', port: 80, forwarding: 'dr', weight: 0, upperThreshold: 0, lowerThreshold: 0 },
    ]);
    const [lost] = desiredIpvs(svc({ sorryServer: { address: '10.99.0.99', inhibit: true } }), down, () => false);
    expect(lost.dests.map((d) => [d.address, d.weight])).toEqual([['10.99.0.99', 1]]);
  });

  it('fwmark services: no address, port 0, DR real servers on port 0', () => {
    const [s] = desiredIpvs(configFor({ nodes: NODES, services: [{ name: 'fw', fwmark: 7, realServers: [{ node: 'rs1' }] }] }, 'd1').services, up, () => true);
    expect(s).toMatchObject({ fwmark: 7, address: null, port: 0 });
    expect(s.dests[0].port).toBe(0);
  });

  it('thresholds pass through as -x/-y', () => {
    const [s] = desiredIpvs(svc({ realServers: [{ node: 'rs1', upperThreshold: 100, lowerThreshold: 20 }] }), up, () => true);
    expect(s.dests[0]).toMatchObject({ upperThreshold: 100, lowerThreshold: 20 });
  });
});

describe('quorumStep (keepalived quorum ± hysteresis)', () => {
  it('first evaluation has no event; lost below q-h; restored at q+h; holds in between', () => {
    expect(quorumStep(undefined, 1, 3, 1)).toEqual({ up: false, changed: false });
    expect(quorumStep(true, 2, 3, 1)).toEqual({ up: true, changed: false });
    expect(quorumStep(true, 1, 3, 1)).toEqual({ up: false, changed: true });
    expect(quorumStep(false, 3, 3, 1)).toEqual({ up: false, changed: false });
    expect(quorumStep(false, 4, 3, 1)).toEqual({ up: true, changed: true });
  });
});
