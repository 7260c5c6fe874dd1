import { describe, expect, it } from 'vitest';
import { compileNode } from '../compiler/compile.ts';
import type { NodeConfig } from '../config/node-config.ts';
import { validateSite } from '../site/validate.ts';
import { parseSave, renderSave } from './codec.ts';
import { desiredIpvs, healthKey, kernelRealServerKey, steadyIpvs } from './desired.ts';
import { realServerKey, serviceKey } from './model.ts';

function configFor(spec: Record<string, unknown>, node: string): NodeConfig {
  const r = validateSite({ apiVersion: 'lvsfleet/v1', kind: 'Site', metadata: { name: 't' }, spec });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return compileNode(r.site, node);
}

const NODES = [
  { name: 'd1', role: 'director', address: '10.99.0.11', interface: 'eth0' },
  { name: 'rs1', role: 'realserver', address: '10.99.0.21' },
];

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

  it('fwmark NAT real servers without a port: port 0 in the table and in the ipvsadm lines (the kernel keeps the packet port)', () => {
    const services = configFor(
      {
        nodes: NODES,
        services: [{ name: 'fw', fwmark: 36, forwarding: 'nat', persistence: {}, realServers: [{ node: 'rs1' }, { address: '10.99.0.31', port: 8443 }] }],
      },
      'd1',
    ).services;
    const table = desiredIpvs(services, up, () => true);
    expect(table[0].dests.map((d) => [d.address, d.port, d.forwarding])).toEqual([
      ['10.99.0.21', 0, 'nat'],
      ['10.99.0.31', 8443, 'nat'],
    ]);
    const saved = renderSave(table);
    expect(saved).toContain('-a -f 36 -r 10.99.0.21:0 -m -w 1');
    expect(parseSave(saved)).toEqual(table);
  });

  it('kernelRealServerKey names each configured real server as the desired table holds it, asked once or again', () => {
    const services = configFor(
      {
        nodes: NODES,
        services: [
          { name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1' }, { address: '10.99.0.31' }] },
          { name: 'dns', vip: '10.99.0.53', port: 53, protocol: 'udp', forwarding: 'nat', realServers: [{ node: 'rs1', port: 5353 }] },
          { name: 'fw', fwmark: 36, forwarding: 'nat', persistence: {}, realServers: [{ node: 'rs1' }, { address: '10.99.0.31', port: 8443 }] },
        ],
      },
      'd1',
    ).services;
    const table = desiredIpvs(services, up, () => true);
    const fromTable = table.flatMap((t) => t.dests.map((d) => realServerKey(serviceKey(t), d)));
    const asked = () => services.flatMap((s) => s.realServers.map((rs) => kernelRealServerKey(s, rs)));
    expect(asked()).toEqual(fromTable);
    expect(asked()).toEqual(fromTable); // the second time from each service's kept key
    expect(new Set(fromTable).size).toBe(5);
  });

  it("kernelRealServerKey: the same real server object in a changed service gets that service's key", () => {
    const [web] = configFor({ nodes: NODES, services: [{ name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1' }] }] }, 'd1').services;
    const rs = web.realServers[0];
    expect(kernelRealServerKey(web, rs)).toBe('tcp:10.99.0.50:80|10.99.0.21:80');
    // A new service object holding the very real server (as the intake hands an unchanged one on).
    expect(kernelRealServerKey({ ...web, scheduler: 'rr' }, rs)).toBe('tcp:10.99.0.50:80|10.99.0.21:80');
    expect(kernelRealServerKey({ ...web, port: 8080 }, rs)).toBe('tcp:10.99.0.50:8080|10.99.0.21:8080');
    expect(kernelRealServerKey({ ...web, vip: '10.99.0.51' }, rs)).toBe('tcp:10.99.0.51:80|10.99.0.21:80');
    expect(kernelRealServerKey(web, rs)).toBe('tcp:10.99.0.50:80|10.99.0.21:80');
  });

  it('thresholds pass through as -x/-y', () => {
    const [s] = desiredIpvs(svc({ realServers: [{ node: 'rs1', upperThreshold: 100, lowerThreshold: 20 }] }), up, () => true);
    expect(s.dests[0]).toMatchObject({ upperThreshold: 100, lowerThreshold: 20 });
  });

  it('the steady state: every real server up at its configured weight, a sorry server without inhibit out', () => {
    const services = svc({
      sorryServer: { address: '10.99.0.99' },
      realServers: [
        { node: 'rs1', weight: 4, healthCheck: { type: 'tcp' } },
        { address: '10.99.0.31', port: 8080, forwarding: 'nat', weight: 2 },
      ],
    });
    expect(steadyIpvs(services)[0].dests).toEqual([
      { address: '10.99.0.21', port: 80, forwarding: 'dr', weight: 4, upperThreshold: 0, lowerThreshold: 0 },
      { address: '10.99.0.31', port: 8080, forwarding: 'nat', weight: 2, upperThreshold: 0, lowerThreshold: 0 },
    ]);
  });
});

describe('healthKey: the health key kept per real server object', () => {
  it('is realServerKey(service name, rs), the same string again for the same object, and made anew under another service name', () => {
    const rs = { address: '10.0.0.5', port: 80 };
    const first = healthKey('web', rs);
    expect(first).toBe(realServerKey('web', rs));
    expect(healthKey('web', rs)).toBe(first);
    // The same object under another service (a service renamed at its place): that service's key.
    expect(healthKey('api', rs)).toBe(realServerKey('api', rs));
    expect(healthKey('web', { ...rs, port: 81 })).toBe('web|10.0.0.5:81');
  });
});
