import { describe, expect, it } from 'vitest';
import { NodeConfig } from '../config/node-config.ts';
import { baseSite as site } from '../site/site.test-support.ts';
import { compileNode, compileSite } from './compile.ts';

describe('compileNode: directors', () => {
  it('gives each director its own priority and the others as peers', () => {
    const dr1 = compileNode(site(), 'dr1');
    const dr2 = compileNode(site(), 'dr2');
    expect(dr1.vrrp.instances.map((i) => [i.name, i.priority, i.sourceAddress])).toEqual([
      ['VI_1', 100, '10.99.0.1'],
      ['VI_2', 90, '10.99.0.1'],
    ]);
    expect(dr2.vrrp.instances.map((i) => [i.name, i.priority, i.sourceAddress])).toEqual([
      ['VI_1', 90, '10.99.0.2'],
      ['VI_2', 100, '10.99.0.2'],
    ]);
    expect(dr1.vrrp.instances[0].peers).toEqual([{ node: 'dr2', address: '10.99.0.2', priority: 90 }]);
    expect(dr2.vrrp.instances[1].peers).toEqual([{ node: 'dr1', address: '10.99.0.1', priority: 90 }]);
  });

  it('resolves keepalived defaults for an instance', () => {
    const vi2 = compileNode(site(), 'dr1').vrrp.instances[1];
    expect(vi2).toMatchObject({
      version: 2,
      advertIntervalMs: 1000,
      preempt: true,
      preemptDelayMs: 0,
      initialState: 'BACKUP',
      auth: null,
      unicast: false,
      garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1, intervalMs: 0 },
      vips: [{ address: '10.99.0.101', prefix: 32, interface: 'eth0', label: null }],
    });
  });

  it('starts the address owner (priority 255) as MASTER', () => {
    const s = site((d) => {
      d.spec.vrrp[1].vips = ['10.99.0.2/32'];
      d.spec.vrrp[1].members[1].priority = 255;
    });
    expect(compileNode(s, 'dr2').vrrp.instances[1]).toMatchObject({ priority: 255, initialState: 'MASTER' });
    expect(compileNode(s, 'dr1').vrrp.instances[1]).toMatchObject({ priority: 90, initialState: 'BACKUP' });
  });

  it('lists unicast peers: the other members, then the extra addresses', () => {
    const s = site((d) => Object.assign(d.spec.vrrp[0], { unicast: true, unicastPeers: ['10.99.0.3'] }));
    expect(compileNode(s, 'dr2').vrrp.instances[0]).toMatchObject({
      unicast: true,
      peers: [
        { node: 'dr1', address: '10.99.0.1', priority: 100 },
        { node: null, address: '10.99.0.3', priority: null },
      ],
    });
  });

  it("uses a member's sourceAddress and interface override on that member only", () => {
    const s = site((d) => (d.spec.vrrp[1].members[0] = { node: 'dr1', priority: 90, interface: 'eth1', sourceAddress: '10.77.0.1' }));
    expect(compileNode(s, 'dr1').vrrp.instances[1]).toMatchObject({ interface: 'eth1', sourceAddress: '10.77.0.1', vips: [{ interface: 'eth1' }] });
    expect(compileNode(s, 'dr2').vrrp.instances[1]).toMatchObject({ interface: 'eth0', peers: [{ node: 'dr1', address: '10.77.0.1' }] });
  });

  it('marks sync group members and sends the group only to nodes in it', () => {
    const s = site((d) => {
      d.spec.nodes.push({ name: 'dr3', role: 'director', address: '10.99.0.3' });
      d.spec.vrrp.push({ name: 'VI_3', vrid: 60, vips: ['10.99.0.103'], members: [{ node: 'dr3', priority: 100 }] });
    });
    const dr1 = compileNode(s, 'dr1');
    expect(dr1.vrrp.syncGroups).toEqual([
      { name: 'VG_1', instances: ['VI_1', 'VI_2'], notify: { master: null, backup: null, fault: null, stop: null, any: null } },
    ]);
    expect(dr1.vrrp.instances.map((i) => i.syncGroup)).toEqual(['VG_1', 'VG_1']);
    const dr3 = compileNode(s, 'dr3');
    expect(dr3.vrrp.syncGroups).toEqual([]);
    expect(dr3.vrrp.instances.map((i) => [i.name, i.syncGroup])).toEqual([['VI_3', null]]);
  });

  it('sends a vrrp script only to nodes whose instances track it, with keepalived defaults', () => {
    const s = site((d) => {
      d.spec.nodes.push({ name: 'dr3', role: 'director', address: '10.99.0.3' });
      d.spec.vrrp.push({ name: 'VI_3', vrid: 60, vips: ['10.99.0.103'], members: [{ node: 'dr3', priority: 100 }] });
      d.spec.vrrpScripts.push({ name: 'unused', script: '/bin/false' });
    });
    expect(compileNode(s, 'dr1').vrrp.scripts).toEqual([
      { name: 'chk', command: '/bin/true', intervalMs: 2000, timeoutMs: 2000, weight: -30, rise: 1, fall: 1, user: null },
    ]);
    expect(compileNode(s, 'dr1').vrrp.instances[0].trackScripts).toEqual([{ script: 'chk', weight: -30 }]);
    expect(compileNode(s, 'dr3').vrrp.scripts).toEqual([]);
  });

  it("lets an instance override a script's weight", () => {
    const s = site((d) => (d.spec.vrrp[0].trackScripts = [{ script: 'chk', weight: 5 }]));
    expect(compileNode(s, 'dr1').vrrp.instances[0].trackScripts).toEqual([{ script: 'chk', weight: 5 }]);
  });

  it('gives connection sync only to members of its instance', () => {
    const s = site((d) => {
      d.spec.nodes.push({ name: 'dr3', role: 'director', address: '10.99.0.3' });
      d.spec.vrrp.push({ name: 'VI_3', vrid: 60, vips: ['10.99.0.103'], members: [{ node: 'dr3', priority: 100 }] });
    });
    expect(compileNode(s, 'dr1').vrrp.connectionSync).toEqual({ instance: 'VI_1', interface: 'eth0', syncId: 0 });
    expect(compileNode(s, 'dr3').vrrp.connectionSync).toBeNull();
    expect(compileNode(s, 'rs1').vrrp.connectionSync).toBeNull();
  });

  it('carries connection sync maxlen to the director, and leaves it out when the site does', () => {
    const s = site((d) => (d.spec.connectionSync = { instance: 'VI_1', group: 'ff02::81', maxlen: 65487 }));
    expect(compileNode(s, 'dr1').vrrp.connectionSync).toEqual({ instance: 'VI_1', interface: 'eth0', syncId: 0, group: 'ff02::81', maxlen: 65487 });
    expect('maxlen' in compileNode(site(), 'dr1').vrrp.connectionSync!).toBe(false);
  });

  it("carries the sync daemon's multicast group only when the site names one", () => {
    const s = site((d) => (d.spec.connectionSync.group = 'FF02::81'));
    expect(compileNode(s, 'dr1').vrrp.connectionSync).toEqual({ instance: 'VI_1', interface: 'eth0', syncId: 0, group: 'ff02::81' });
  });

  it('restricts a service to its directors', () => {
    const s = site((d) => (d.spec.services[1].directors = ['dr2']));
    expect(compileNode(s, 'dr1').services.map((x) => x.name)).toEqual(['web']);
    expect(compileNode(s, 'dr2').services.map((x) => x.name)).toEqual(['web', 'mail']);
  });

  it('resolves services: ports, weights, persistence, fwmark and checks per real server', () => {
    const [web, mail] = compileNode(site(), 'dr1').services;
    expect(web).toMatchObject({
      vip: '10.99.0.100',
      port: 80,
      fwmark: 0,
      protocol: 'tcp',
      scheduler: 'wlc',
      persistence: { timeoutS: 50, netmask: '255.255.255.255' },
      quorum: 1,
      hysteresis: 0,
    });
    expect(web.realServers.map((r) => [r.node, r.address, r.port, r.weight, r.forwarding])).toEqual([
      ['rs1', '10.99.0.11', 80, 2, 'dr'],
      ['rs2', '10.99.0.12', 80, 1, 'dr'],
      [null, '10.99.0.13', 80, 1, 'dr'],
    ]);
    expect(web.realServers[0].healthCheck).toEqual({
      type: 'http',
      intervalMs: 60_000,
      timeoutMs: 5_000,
      retries: 1,
      retryDelayMs: 3_000,
      warmupMs: 60_000,
      address: '10.99.0.11',
      port: 80,
      bindTo: null,
      params: { urls: [{ path: '/', expectStatus: [200] }] },
    });
    expect(mail).toMatchObject({ vip: null, port: 0, fwmark: 7, scheduler: 'sh' });
    expect(mail.realServers[0]).toMatchObject({ address: '10.99.0.11', port: 0, healthCheck: null });
  });

  it("applies keepalived's per-checker retry defaults", () => {
    const checks = { tcp: [1, 1000], http: [1, 3000], https: [1, 3000], smtp: [1, 1000], dns: [3, 7000], misc: [0, 1000], udp: [1, 1000], ping: [1, 1000] };
    for (const [type, [retries, retryDelayMs]] of Object.entries(checks)) {
      const hc = { type, interval: '7s', ...(type === 'misc' ? { command: '/bin/true' } : {}) };
      const s = site((d) => (d.spec.services[0].healthCheck = hc));
      expect(compileNode(s, 'dr1').services[0].realServers[0].healthCheck, type).toMatchObject({
        type,
        intervalMs: 7000,
        retries,
        retryDelayMs,
        warmupMs: 7000,
      });
    }
  });

  it('lets a real server override the service check and probe another port', () => {
    const s = site((d) => (d.spec.services[0].realServers[1].healthCheck = { type: 'tcp', port: 8080, address: '10.99.0.99', warmup: '0s' }));
    expect(compileNode(s, 'dr1').services[0].realServers[1].healthCheck).toMatchObject({
      type: 'tcp',
      address: '10.99.0.99',
      port: 8080,
      warmupMs: 0,
      params: {},
    });
  });

  it('turns on ip_forward only for NAT and always stops redirects on directors with services', () => {
    expect(compileNode(site(), 'dr1').sysctls).toEqual({ 'net.ipv4.conf.all.send_redirects': '0', 'net.ipv4.conf.default.send_redirects': '0' });
    const nat = site((d) => (d.spec.services[0].realServers[2].forwarding = 'nat'));
    expect(compileNode(nat, 'dr1').sysctls['net.ipv4.ip_forward']).toBe('1');
    const none = site((d) => (d.spec.services = undefined));
    expect(compileNode(none, 'dr1').sysctls).toEqual({});
  });
});

describe('compileNode: real servers', () => {
  it('DR: the VIP for lo and the ARP sysctls, nothing of VRRP or IPVS', () => {
    const rs1 = compileNode(site(), 'rs1');
    expect(rs1.vrrp).toEqual({ instances: [], scripts: [], syncGroups: [], connectionSync: null });
    expect(rs1.services).toEqual([]);
    expect(rs1.sysctls).toEqual({});
    expect(rs1.realServer).toEqual({
      vips: [{ address: '10.99.0.100', forwarding: 'dr', services: ['web'], expectedGateways: [] }],
      sysctls: {
        'net.ipv4.conf.all.arp_ignore': '1',
        'net.ipv4.conf.all.arp_announce': '2',
        'net.ipv4.conf.lo.arp_ignore': '1',
        'net.ipv4.conf.lo.arp_announce': '2',
      },
    });
  });

  it('TUN: the VIP for tunl0, rp_filter off and ARP suppressed', () => {
    const s = site((d) => (d.spec.services[0].forwarding = 'tun'));
    expect(compileNode(s, 'rs2').realServer).toEqual({
      vips: [{ address: '10.99.0.100', forwarding: 'tun', services: ['web'], expectedGateways: [] }],
      sysctls: {
        'net.ipv4.conf.all.arp_ignore': '1',
        'net.ipv4.conf.all.arp_announce': '2',
        'net.ipv4.conf.tunl0.arp_ignore': '1',
        'net.ipv4.conf.tunl0.arp_announce': '2',
        'net.ipv4.conf.all.rp_filter': '0',
        'net.ipv4.conf.tunl0.rp_filter': '0',
      },
    });
  });

  it("NAT: the gateway is a VRRP VIP on the real server's subnet, else the serving directors", () => {
    const onSubnet = site((d) => {
      d.spec.services[0].forwarding = 'nat';
      d.spec.vrrp[1].vips = ['10.99.0.254/24'];
    });
    expect(compileNode(onSubnet, 'rs1').realServer).toEqual({
      vips: [{ address: '10.99.0.100', forwarding: 'nat', services: ['web'], expectedGateways: ['10.99.0.254'] }],
      sysctls: {},
    });
    const noVip = site((d) => {
      d.spec.services[0].forwarding = 'nat';
      d.spec.services[0].directors = ['dr2'];
    });
    expect(compileNode(noVip, 'rs1').realServer.vips[0].expectedGateways).toEqual(['10.99.0.2']);
  });

  it('one entry per VIP and mode, services listed once, sorted by address', () => {
    const s = site((d) => {
      d.spec.services.push({
        name: 'api',
        vip: '10.99.0.101',
        port: 443,
        forwarding: 'nat',
        realServers: [
          { node: 'rs1', port: 8443 },
          { node: 'rs1', port: 9443 },
        ],
      });
      d.spec.services.push({ name: 'web8080', vip: '10.99.0.100', port: 8080, realServers: [{ node: 'rs1' }] });
    });
    expect(compileNode(s, 'rs1').realServer.vips).toEqual([
      { address: '10.99.0.100', forwarding: 'dr', services: ['web', 'web8080'], expectedGateways: [] },
      { address: '10.99.0.101', forwarding: 'nat', services: ['api'], expectedGateways: ['10.99.0.1', '10.99.0.2'] },
    ]);
  });

  it('a realserver node listed by address is still set up', () => {
    const s = site((d) => (d.spec.services[0].realServers[1] = { address: '10.99.0.12', port: 80 }));
    expect(compileNode(s, 'rs2').realServer.vips.map((v) => v.address)).toEqual(['10.99.0.100']);
  });

  it('fwmark services give the real server nothing to hold', () => {
    const s = site((d) => (d.spec.services = [d.spec.services[1]]));
    expect(compileNode(s, 'rs1').realServer).toEqual({ vips: [], sysctls: {} });
  });
});

describe('compileSite', () => {
  it('compiles every node, in name order, each a valid NodeConfig', () => {
    const configs = compileSite(site());
    expect([...configs.keys()]).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
    for (const c of configs.values()) expect(NodeConfig.parse(c)).toEqual(c);
  });

  it('refuses a node that is not in the site', () => {
    expect(() => compileNode(site(), 'dr9')).toThrow(RangeError);
  });
});
