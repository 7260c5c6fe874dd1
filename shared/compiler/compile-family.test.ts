import { describe, expect, it } from 'vitest';
import { NodeConfig } from '../config/node-config.ts';
import { dualStack, baseSite as site } from '../site/site.test-support.ts';
import { compileNode, compileSite } from './compile.ts';

describe('compile: IPv6 and dual stack', () => {
  it('an IPv6 instance is VRRPv3 of family 6, sourced and peered at the members’ IPv6 addresses, in RFC 5952 form', () => {
    const cfg = compileNode(site(dualStack), 'dr1');
    const [vi1, vi2] = cfg.vrrp.instances;
    expect(vi1.family).toBeUndefined();
    expect(vi1.version).toBe(2);
    expect(vi2).toMatchObject({ family: 6, version: 3, sourceAddress: '2001:db8::1', peers: [{ node: 'dr2', address: '2001:db8::2', priority: 100 }] });
    expect(vi2.vips.map((v) => [v.address, v.prefix])).toEqual([
      ['2001:db8::101', 64],
      ['2001:db8::102', 128],
    ]);
    // Mixed families in one sync group, as keepalived's vrrp_sync_group allows.
    expect(cfg.vrrp.syncGroups).toEqual([expect.objectContaining({ instances: ['VI_1', 'VI_2'] })]);
    expect(cfg.node).toMatchObject({ address: '10.99.0.1', address6: '2001:db8::1' });
    expect(NodeConfig.safeParse(cfg).success).toBe(true);
  });

  it('a dual-stack service is two IPVS services of one name, IPv4 first, each with the real servers of its family', () => {
    const web = compileNode(site(dualStack), 'dr1').services.filter((s) => s.name === 'web');
    expect(web.map((s) => [s.vip, s.family])).toEqual([
      ['10.99.0.100', undefined],
      ['2001:db8::100', 6],
    ]);
    expect(web[0].realServers.map((r) => r.address)).toEqual(['10.99.0.11', '10.99.0.12', '10.99.0.13']);
    expect(web[1].realServers.map((r) => r.address)).toEqual(['2001:db8::11', '2001:db8::12', '2001:db8::13']);
    expect(web[1].realServers[0].healthCheck?.address).toBe('2001:db8::11');
  });

  it('a real-server node holds each VIP of its families; IPv6 DR needs no ARP sysctls', () => {
    const rs1 = compileNode(site(dualStack), 'rs1');
    expect(rs1.realServer.vips.map((v) => [v.address, v.forwarding, v.services])).toEqual([
      ['10.99.0.100', 'dr', ['web']],
      ['2001:db8::100', 'dr', ['web']],
    ]);
    const v6only = compileNode(
      site((d) => {
        dualStack(d);
        d.spec.services[0].vips = ['2001:db8::100'];
        d.spec.services[0].realServers = [{ node: 'rs2' }];
      }),
      'rs2',
    );
    expect(v6only.realServer.vips.map((v) => v.address)).toEqual(['2001:db8::100']);
    expect(v6only.realServer.sysctls).toEqual({});
  });

  it('IPv6 NAT: the director forwards IPv6 and the real server expects its IPv6 gateways', () => {
    const s = site((d) => {
      dualStack(d);
      d.spec.services[0].vips = ['2001:db8::100'];
      d.spec.services[0].forwarding = 'nat';
      d.spec.services[0].realServers = [{ node: 'rs1' }];
      d.spec.services[1].forwarding = 'dr';
    });
    const configs = compileSite(s);
    expect(configs.get('dr1')!.sysctls).toMatchObject({ 'net.ipv6.conf.all.forwarding': '1' });
    expect(configs.get('dr1')!.sysctls['net.ipv4.ip_forward']).toBeUndefined();
    // rs1 (2001:db8::11) is inside VI_2's 2001:db8::101/64: the VIP is its gateway.
    expect(configs.get('rs1')!.realServer.vips).toEqual([
      { address: '2001:db8::100', forwarding: 'nat', services: ['web'], expectedGateways: ['2001:db8::101'] },
    ]);
  });

  it('an IPv4 real server behind an IPv6 VIP by TUN keeps its IPv4 address', () => {
    const s = site((d) => {
      delete d.spec.connectionSync;
      Object.assign(d.spec.services[0], { vip: '2001:db8::100', forwarding: 'tun' });
      delete d.spec.services[0].persistence;
      delete d.spec.services[0].realServers[2].port;
    });
    const [web] = compileNode(s, 'dr1').services;
    expect([web.vip, web.family, web.realServers.map((r) => r.address)]).toEqual(['2001:db8::100', 6, ['10.99.0.11', '10.99.0.12', '10.99.0.13']]);
    expect(compileNode(s, 'rs1').realServer.vips.map((v) => [v.address, v.forwarding])).toEqual([['2001:db8::100', 'tun']]);
  });

  it('an IPv6 fwmark service says family 6', () => {
    const s = site((d) => Object.assign(d.spec.services[1], { family: 6, realServers: [{ address: '2001:db8::11' }] }));
    const mail = compileNode(s, 'dr1').services[1];
    expect([mail.vip, mail.fwmark, mail.family]).toEqual([null, 7, 6]);
  });

  it('an IPv4-only site compiles without any family field', () => {
    const text = JSON.stringify([...compileSite(site(() => {})).values()]);
    expect(text).not.toContain('family');
    expect(text).not.toContain('address6');
  });
});
