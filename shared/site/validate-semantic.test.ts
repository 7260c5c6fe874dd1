import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSite } from './validate.ts';
import { baseDoc, type Doc } from './site.test-support.ts';

type Row = [name: string, mutate: (d: Doc) => void, issues: [path: string, message: string][]];

const svc0 = 'spec.services[0]';
const rs = (j: number) => `${svc0}.realServers[${j}]`;

/** Gives both directors an IPv6 address beside their IPv4 one. */
function dualStackDirectors(d: Doc): void {
  d.spec.nodes[0].address6 = '2001:db8::1';
  d.spec.nodes[1].address6 = '2001:db8::2';
}

/** Gives both real-server nodes an IPv6 address and moves the address-only real server to IPv6. */
function dualStackRealServers(d: Doc): void {
  d.spec.nodes[2].address6 = '2001:db8::11';
  d.spec.nodes[3].address6 = '2001:db8::12';
  d.spec.services[0].realServers[2].address = '2001:db8::13';
}

/** Semantic rules (semantic.ts, semantic-services.ts, semantic-family.ts): one row per rule, exact issues. */
const SEMANTIC_CASES: Row[] = [
  // nodes
  [
    'duplicate node name',
    (d) => d.spec.nodes.push({ name: 'rs1', role: 'realserver', address: '10.99.0.14' }),
    [['spec.nodes[4].name', 'duplicate node name "rs1" (also at spec.nodes[2])']],
  ],
  [
    'duplicate node address',
    (d) => d.spec.nodes.push({ name: 'rs3', role: 'realserver', address: '10.99.0.11' }),
    [['spec.nodes[4].address', 'address 10.99.0.11 is already used by spec.nodes[2]']],
  ],
  // names
  [
    'duplicate VRRP instance name',
    (d) => {
      d.spec.vrrp[1].name = 'VI_1';
      d.spec.syncGroups = undefined;
    },
    [['spec.vrrp[1].name', 'duplicate VRRP instance name "VI_1" (also at spec.vrrp[0])']],
  ],
  [
    'duplicate vrrp script name',
    (d) => d.spec.vrrpScripts.push({ name: 'chk', script: '/bin/false' }),
    [['spec.vrrpScripts[1].name', 'duplicate vrrp script name "chk" (also at spec.vrrpScripts[0])']],
  ],
  [
    'duplicate sync group name',
    (d) => {
      d.spec.syncGroups = [
        { name: 'VG', instances: ['VI_1', 'VI_3'] },
        { name: 'VG', instances: ['VI_2', 'VI_4'] },
      ];
      d.spec.vrrp.push(
        { name: 'VI_3', vrid: 53, vips: ['10.99.0.103'], members: [{ node: 'dr1', priority: 10 }] },
        { name: 'VI_4', vrid: 54, vips: ['10.99.0.104'], members: [{ node: 'dr1', priority: 10 }] },
      );
    },
    [['spec.syncGroups[1].name', 'duplicate sync group name "VG" (also at spec.syncGroups[0])']],
  ],
  ['duplicate service name', (d) => (d.spec.services[1].name = 'web'), [['spec.services[1].name', 'duplicate service name "web" (also at spec.services[0])']]],
  // VRRP
  [
    'VRID reused on the same interface',
    (d) => (d.spec.vrrp[1].vrid = 50),
    [['spec.vrrp[1].vrid', 'VRID 50 is already used on eth0 in this site by spec.vrrp[0]']],
  ],
  [
    'VRID reused where only one member shares the interface',
    (d) => {
      d.spec.vrrp[1].vrid = 50;
      d.spec.vrrp[1].members[0].interface = 'eth1';
    },
    [['spec.vrrp[1].vrid', 'VRID 50 is already used on eth0 in this site by spec.vrrp[0]']],
  ],
  [
    'VRID reused on the same interface by other directors',
    (d) => {
      d.spec.nodes.push({ name: 'dr3', role: 'director', address: '10.99.0.3' }, { name: 'dr4', role: 'director', address: '10.99.0.4' });
      d.spec.vrrp.push({
        name: 'VI_3',
        vrid: 50,
        vips: ['10.99.0.103'],
        members: [
          { node: 'dr3', priority: 100 },
          { node: 'dr4', priority: 90 },
        ],
      });
    },
    [['spec.vrrp[2].vrid', 'VRID 50 is already used on eth0 in this site by spec.vrrp[0]']],
  ],
  [
    'VRID reused by two IPv6 instances on the same interface',
    (d) => {
      dualStackDirectors(d);
      d.spec.vrrp.push(
        { name: 'VI_3', vrid: 60, vips: ['2001:db8::103/64'], members: [{ node: 'dr1', priority: 10 }] },
        { name: 'VI_4', vrid: 60, vips: ['2001:db8::104/64'], members: [{ node: 'dr2', priority: 10 }] },
      );
    },
    [['spec.vrrp[3].vrid', 'VRID 60 is already used on eth0 in this site by spec.vrrp[2]']],
  ],
  [
    'priority 255 for a router that does not own the VIP',
    (d) => (d.spec.vrrp[0].members[0].priority = 255),
    [['spec.vrrp[0].members[0].priority', 'priority 255 is only for the owner of the virtual addresses (RFC 5798 §5.2.4); use 1–254']],
  ],
  [
    'PASS password of 9 bytes',
    (d) => (d.spec.vrrp[0].auth.password = '123456789'),
    [['spec.vrrp[0].auth.password', 'PASS passwords are at most 8 bytes (RFC 3768 §5.3.10)']],
  ],
  [
    'PASS password of 4 characters but 12 bytes',
    (d) => (d.spec.vrrp[0].auth.password = '密码密码'),
    [['spec.vrrp[0].auth.password', 'PASS passwords are at most 8 bytes (RFC 3768 §5.3.10)']],
  ],
  [
    'VRRPv2 advert of 1500ms',
    (d) => (d.spec.vrrp[0].advertInterval = '1500ms'),
    [['spec.vrrp[0].advertInterval', 'VRRPv2 adverts are whole seconds from 1s to 255s (RFC 3768 §5.3.7)']],
  ],
  [
    'VRRPv2 advert of 100ms (default version)',
    (d) => (d.spec.vrrp[1].advertInterval = '100ms'),
    [['spec.vrrp[1].advertInterval', 'VRRPv2 adverts are whole seconds from 1s to 255s (RFC 3768 §5.3.7)']],
  ],
  [
    'VRRPv2 advert of 256s',
    (d) => (d.spec.vrrp[0].advertInterval = '256s'),
    [['spec.vrrp[0].advertInterval', 'VRRPv2 adverts are whole seconds from 1s to 255s (RFC 3768 §5.3.7)']],
  ],
  [
    'VRRPv3 advert of 105ms',
    (d) => Object.assign(d.spec.vrrp[1], { version: 3, advertInterval: '105ms' }),
    [['spec.vrrp[1].advertInterval', 'VRRPv3 adverts are multiples of 10ms from 10ms to 40.95s (RFC 5798 §5.2.7)']],
  ],
  [
    'VRRPv3 instance without VIPs',
    (d) => Object.assign(d.spec.vrrp[1], { version: 3, vips: [] }),
    [['spec.vrrp[1].vips', 'a VRRPv3 instance needs at least one VIP (RFC 5798 §5.2.9); VRRPv2 allows none']],
  ],
  [
    'VRRPv3 advert of 41s',
    (d) => Object.assign(d.spec.vrrp[1], { version: 3, advertInterval: '41s' }),
    [['spec.vrrp[1].advertInterval', 'VRRPv3 adverts are multiples of 10ms from 10ms to 40.95s (RFC 5798 §5.2.7)']],
  ],
  [
    'VRRPv3 with authentication',
    (d) => (d.spec.vrrp[0].version = 3),
    [['spec.vrrp[0].auth', 'VRRPv3 has no authentication (RFC 5798 §9); remove auth or use version 2']],
  ],
  ['AH authentication', (d) => (d.spec.vrrp[0].auth.type = 'AH'), [['spec.vrrp[0].auth.type', 'AH authentication is not supported; use PASS']]],
  [
    'preemptDelay with nopreempt',
    (d) => Object.assign(d.spec.vrrp[0], { preempt: false, preemptDelay: '5s' }),
    [['spec.vrrp[0].preemptDelay', 'preemptDelay has no effect with preempt: false']],
  ],
  ['preemptDelay over 1000s', (d) => (d.spec.vrrp[0].preemptDelay = '1001s'), [['spec.vrrp[0].preemptDelay', 'preemptDelay is at most 1000s']]],
  ['member that is not a node', (d) => (d.spec.vrrp[0].members[1].node = 'dr3'), [['spec.vrrp[0].members[1].node', 'no node named "dr3" in spec.nodes']]],
  [
    'member that is a real server',
    (d) => (d.spec.vrrp[0].members[1].node = 'rs1'),
    [['spec.vrrp[0].members[1].node', 'node "rs1" is a realserver; VRRP members must be directors']],
  ],
  ['member listed twice', (d) => (d.spec.vrrp[0].members[1].node = 'dr1'), [['spec.vrrp[0].members[1].node', 'node "dr1" is a member twice']]],
  [
    'track script that does not exist',
    (d) => (d.spec.vrrp[0].trackScripts[0].script = 'chk_nginx'),
    [['spec.vrrp[0].trackScripts[0].script', 'no vrrp script named "chk_nginx" in spec.vrrpScripts']],
  ],
  [
    'unicast with nobody to talk to',
    (d) => Object.assign(d.spec.vrrp[1], { unicast: true, members: [{ node: 'dr1', priority: 100 }] }),
    [['spec.vrrp[1].unicast', 'unicast needs at least one peer: another member or unicastPeers']],
  ],
  [
    'VIP held by two instances',
    (d) => d.spec.vrrp[1].vips.push('10.99.0.100/24'),
    [['spec.vrrp[1].vips[1]', 'virtual address 10.99.0.100 is already held by spec.vrrp[0].vips[0]']],
  ],
  [
    'excluded VIP that is also a VIP',
    (d) => (d.spec.vrrp[0].excludedVips = [{ address: '10.99.0.101' }]),
    [['spec.vrrp[1].vips[0]', 'virtual address 10.99.0.101 is already held by spec.vrrp[0].excludedVips[0]']],
  ],
  [
    "VIP label not on the VIP's device",
    (d) => (d.spec.vrrp[0].vips = [{ address: '10.99.0.100/32', label: 'eth1:0' }]),
    [['spec.vrrp[0].vips[0].label', 'label "eth1:0" must be "eth0" or start with "eth0:" (on dr1)']],
  ],
  [
    'VIP label right on one member only',
    (d) => {
      d.spec.vrrp[0].vips = [{ address: '10.99.0.100/32', label: 'eth0:vip' }];
      d.spec.vrrp[0].members[1].interface = 'bond0';
    },
    [['spec.vrrp[0].vips[0].label', 'label "eth0:vip" must be "bond0" or start with "bond0:" (on dr2)']],
  ],
  [
    'sync group naming a missing instance',
    (d) => (d.spec.syncGroups[0].instances[1] = 'VI_9'),
    [['spec.syncGroups[0].instances[1]', 'no VRRP instance named "VI_9"']],
  ],
  [
    'instance in two sync groups',
    (d) => d.spec.syncGroups.push({ name: 'VG_2', instances: ['VI_2', 'VI_1'] }),
    [
      ['spec.syncGroups[1].instances[0]', 'instance "VI_2" is already in sync group "VG_1"'],
      ['spec.syncGroups[1].instances[1]', 'instance "VI_1" is already in sync group "VG_1"'],
    ],
  ],
  ['vrrp script interval 0ms', (d) => (d.spec.vrrpScripts[0].interval = '0ms'), [['spec.vrrpScripts[0].interval', 'interval must be at least 1ms']]],
  ['vrrp script timeout 0s', (d) => (d.spec.vrrpScripts[0].timeout = '0s'), [['spec.vrrpScripts[0].timeout', 'timeout must be at least 1ms']]],
  [
    'connection sync on a missing instance',
    (d) => (d.spec.connectionSync.instance = 'VI_9'),
    [['spec.connectionSync.instance', 'no VRRP instance named "VI_9"']],
  ],
  [
    'connection sync maxlen too big for an IPv6 group',
    (d) => ((d.spec.connectionSync.group = 'ff02::81'), (d.spec.connectionSync.maxlen = 65488)),
    [['spec.connectionSync.maxlen', 'maxlen 65488 is more than an IPv6 sync message can carry (at most 65487 bytes)']],
  ],
  // address families (semantic-family.ts)
  [
    'one IPv6 address written two ways is one address',
    (d) => {
      d.spec.nodes[2].address6 = '2001:db8::11';
      d.spec.nodes.push({ name: 'rs3', role: 'realserver', address: '10.99.0.14', address6: '2001:DB8::0:11' });
    },
    [['spec.nodes[4].address6', 'address 2001:db8::11 is already used by spec.nodes[2]']],
  ],
  [
    'link-local node address',
    (d) => (d.spec.nodes[2].address6 = 'fe80::11'),
    [
      [
        'spec.nodes[2].address6',
        "fe80::11 is link-local: a node's address is reached from other links (checks, BFD, real-server routes); use a global or unique-local address",
      ],
    ],
  ],
  [
    'address6 on an IPv6 node',
    (d) => d.spec.nodes.push({ name: 'rs3', role: 'realserver', address: '2001:db8::14', address6: '2001:db8::15' }),
    [['spec.nodes[4].address6', 'address6 is for a node whose address is IPv4; this address is IPv6 already']],
  ],
  [
    'VRRPv2 instance with an IPv6 VIP',
    (d) => {
      dualStackDirectors(d);
      Object.assign(d.spec.vrrp[1], { version: 2, vips: ['2001:db8::101/64'] });
    },
    [['spec.vrrp[1].version', 'VRRPv2 is IPv4 only (RFC 3768 §1); an IPv6 instance runs VRRPv3 (RFC 5798): use version 3']],
  ],
  [
    'VIPs of both families in one instance',
    (d) => (d.spec.vrrp[1].vips = ['10.99.0.101/32', '2001:db8::101']),
    [['spec.vrrp[1].vips[1]', '2001:db8::101 is IPv6 in an IPv4 instance: an instance is one family (put it in an instance of its own, or in excludedVips)']],
  ],
  [
    'link-local VIP on no named link',
    (d) => {
      dualStackDirectors(d);
      for (const n of d.spec.nodes) delete n.interface;
      d.spec.vrrp[1].vips = ['2001:db8::101/64', 'fe80::101/64'];
    },
    [['spec.vrrp[1].vips[1]', "fe80::101 is link-local (fe80::/10): name its link with { address, interface } or the instance's interface"]],
  ],
  [
    'label on an IPv6 VIP',
    (d) => {
      dualStackDirectors(d);
      d.spec.vrrp[1].vips = [{ address: '2001:db8::101/64', interface: 'eth0', label: 'eth0:1' }];
    },
    [['spec.vrrp[1].vips[0].label', 'address labels are IPv4 only (iproute2; keepalived ignores them on IPv6 addresses): remove the label']],
  ],
  [
    'a check bound to an IPv4 address probing an IPv6 real server',
    (d) => {
      dualStackRealServers(d);
      d.spec.services[0].vip = '2001:db8::100';
      delete d.spec.services[0].persistence;
      d.spec.services[0].healthCheck.bindTo = '10.99.0.1';
    },
    [['spec.services[0].healthCheck.bindTo', "the check binds to 10.99.0.1 but connects to 2001:db8::11: a probe's source and target are of one family"]],
  ],
  [
    'member source of the other family',
    (d) => (d.spec.vrrp[0].members[0].sourceAddress = '2001:db8::1'),
    [['spec.vrrp[0].members[0].sourceAddress', '2001:db8::1 is IPv6; this instance is IPv4']],
  ],
  [
    'link-local member source on no named link',
    (d) => {
      dualStackDirectors(d);
      for (const n of d.spec.nodes) delete n.interface;
      d.spec.vrrp[1].vips = ['2001:db8::101/64'];
      d.spec.vrrp[1].members[0].sourceAddress = 'fe80::1';
    },
    [['spec.vrrp[1].members[0].sourceAddress', "fe80::1 is link-local: name the member's interface (or the instance's)"]],
  ],
  [
    'IPv6 instance member without an IPv6 address',
    (d) => {
      d.spec.nodes[0].address6 = '2001:db8::1';
      d.spec.vrrp[1].vips = ['2001:db8::101/64'];
    },
    [['spec.vrrp[1].members[1].node', 'node "dr2" has no IPv6 address for this IPv6 instance: give the node address6, or the member a sourceAddress']],
  ],
  [
    'unicast peer of the other family',
    (d) => Object.assign(d.spec.vrrp[1], { unicast: true, unicastPeers: ['2001:db8::3'] }),
    [['spec.vrrp[1].unicastPeers[0]', '2001:db8::3 is IPv6; this instance is IPv4']],
  ],
  [
    'link-local unicast peer on no named link',
    (d) => {
      dualStackDirectors(d);
      for (const n of d.spec.nodes) delete n.interface;
      Object.assign(d.spec.vrrp[1], { vips: ['2001:db8::101/64'], unicast: true, unicastPeers: ['fe80::3'] });
    },
    [['spec.vrrp[1].unicastPeers[0]', "fe80::3 is link-local: name the instance's interface, on which the peer is reached"]],
  ],
  ['vip and vips together', (d) => (d.spec.services[0].vips = ['10.99.0.100']), [['spec.services[0].vips', 'give vip or vips, not both']]],
  [
    'fwmark service with vips',
    (d) => (d.spec.services[1].vips = ['10.99.0.100']),
    [['spec.services[1].vips', 'an fwmark service has no vips; remove vips or fwmark']],
  ],
  [
    'family on a VIP service',
    (d) => (d.spec.services[0].family = 6),
    [['spec.services[0].family', 'family is for fwmark services; a VIP service has the family of its VIP']],
  ],
  [
    'two VIPs of one family',
    (d) => {
      delete d.spec.services[0].vip;
      d.spec.services[0].vips = ['10.99.0.100', '10.99.0.101'];
    },
    [['spec.services[0].vips[1]', 'vips holds one IPv4 and one IPv6 address (dual stack); give a second service for another VIP of one family']],
  ],
  [
    'link-local service VIP',
    (d) => {
      dualStackRealServers(d);
      d.spec.services[0].vip = 'fe80::100';
      delete d.spec.services[0].persistence;
    },
    [['spec.services[0].vip', 'fe80::100 is link-local (fe80::/10): a service VIP must be reachable beyond one link']],
  ],
  [
    'persistence netmask on an IPv6 service',
    (d) => {
      dualStackRealServers(d);
      d.spec.services[0].vip = '2001:db8::100';
      d.spec.services[0].persistence.netmask = '255.255.255.0';
    },
    [['spec.services[0].persistence.netmask', 'a netmask groups IPv4 clients; an IPv6 service persists per client address']],
  ],
  [
    'link-local real server and sorry server',
    (d) => {
      dualStackRealServers(d);
      d.spec.services[0].vip = '2001:db8::100';
      delete d.spec.services[0].persistence;
      d.spec.services[0].realServers[2].address = 'fe80::13';
      d.spec.services[0].sorryServer = { address: 'FE80::99' };
    },
    [
      [`${rs(2)}.address`, 'fe80::13 is link-local (fe80::/10): the kernel refuses a link-local IPVS destination; use a global or unique-local address'],
      [
        'spec.services[0].sorryServer.address',
        'fe80::99 is link-local (fe80::/10): the kernel refuses a link-local IPVS destination; use a global or unique-local address',
      ],
    ],
  ],
  [
    'IPv4 real servers behind an IPv6 VIP with DR',
    (d) => {
      d.spec.nodes[3].address6 = '2001:db8::12';
      d.spec.services[0].vip = '2001:db8::100';
      delete d.spec.services[0].persistence;
    },
    [
      [
        `${rs(0)}.node`,
        'node "rs1" (10.99.0.11) is IPv4 behind an IPv6 service: only TUN forwarding crosses families in IPVS (the kernel refuses DR); use an IPv6 address or forwarding: tun, or give the node address6',
      ],
      [
        `${rs(2)}.address`,
        'real server 10.99.0.13 is IPv4 behind an IPv6 service: only TUN forwarding crosses families in IPVS (the kernel refuses DR); use an IPv6 address or forwarding: tun',
      ],
    ],
  ],
  [
    'IPv4 real server behind an IPv6 VIP with TUN while connection sync runs',
    (d) => {
      d.spec.nodes[2].address6 = '2001:db8::11';
      d.spec.nodes[3].address6 = '2001:db8::12';
      Object.assign(d.spec.services[0], { vip: '2001:db8::100', forwarding: 'tun' });
      d.spec.services[0].realServers[2].port = undefined;
      delete d.spec.services[0].persistence;
    },
    [
      [
        `${rs(2)}.address`,
        'real server 10.99.0.13 is IPv4 behind an IPv6 service: the kernel refuses destinations of another family while connection sync runs (spec.connectionSync)',
      ],
    ],
  ],
  [
    'dual-stack service with a node lacking an IPv6 address',
    (d) => {
      d.spec.nodes[2].address6 = '2001:db8::11';
      delete d.spec.services[0].vip;
      d.spec.services[0].vips = ['10.99.0.100', '2001:db8::100'];
      d.spec.services[0].persistence = { timeout: '50s' };
    },
    [[`${rs(1)}.node`, 'node "rs2" has no IPv6 address for the IPv6 VIP of this dual-stack service: give it address6, or list it by address']],
  ],
  [
    'one IPv6 VIP:port served twice, written two ways',
    (d) => {
      dualStackRealServers(d);
      d.spec.services[0].vip = '2001:db8::100';
      delete d.spec.services[0].persistence;
      d.spec.services.push({ name: 'web2', vip: '2001:DB8:0::100', port: 80, realServers: [{ address: '2001:db8::21' }] });
    },
    [['spec.services[2].port', 'tcp [2001:db8::100]:80 is already served by spec.services[0]']],
  ],
  // services
  [
    'fwmark service with a vip',
    (d) => (d.spec.services[1].vip = '10.99.0.100'),
    [['spec.services[1].vip', 'an fwmark service has no vip; remove vip or fwmark']],
  ],
  ['fwmark service with a port', (d) => (d.spec.services[1].port = 25), [['spec.services[1].port', 'an fwmark service has no port; remove port or fwmark']]],
  [
    'service with neither vip/port nor fwmark',
    (d) => delete d.spec.services[1].fwmark,
    [
      ['spec.services[1].vip', 'vip is required (or vips, or fwmark)'],
      ['spec.services[1].port', 'port is required (or fwmark)'],
    ],
  ],
  [
    'port 0 without persistence',
    (d) => {
      d.spec.services[0].port = 0;
      delete d.spec.services[0].persistence;
      d.spec.services[0].realServers[2].port = 0;
      d.spec.services[0].healthCheck.port = 80;
    },
    [[`${svc0}.port`, 'port 0 (all ports) needs persistence']],
  ],
  [
    'VIP:port served twice',
    (d) => d.spec.services.push({ name: 'web2', vip: '10.99.0.100', port: 80, realServers: [] }),
    [['spec.services[2].port', 'tcp 10.99.0.100:80 is already served by spec.services[0]']],
  ],
  [
    'fwmark served twice',
    (d) => d.spec.services.push({ name: 'mail2', fwmark: 7, realServers: [] }),
    [['spec.services[2].fwmark', 'fwmark 7 is already served by spec.services[1]']],
  ],
  [
    'scheduler flag of another scheduler',
    (d) => (d.spec.services[0].schedulerFlags = ['sh-port']),
    [[`${svc0}.schedulerFlags[0]`, 'flag sh-port is for the sh scheduler, not wlc']],
  ],
  [
    'persistence timeout of 1.5s',
    (d) => (d.spec.services[0].persistence.timeout = '1500ms'),
    [[`${svc0}.persistence.timeout`, 'persistence timeout is whole seconds, at least 1s']],
  ],
  [
    'persistence netmask with holes',
    (d) => (d.spec.services[0].persistence.netmask = '255.0.255.0'),
    [[`${svc0}.persistence.netmask`, '255.0.255.0 is not a contiguous netmask']],
  ],
  ['one-packet scheduling on TCP', (d) => (d.spec.services[0].onePacket = true), [[`${svc0}.onePacket`, 'one-packet scheduling is for UDP services']]],
  [
    'hysteresis equal to quorum',
    (d) => Object.assign(d.spec.services[0], { quorum: 2, hysteresis: 2 }),
    [[`${svc0}.hysteresis`, 'hysteresis must be smaller than quorum']],
  ],
  ['hysteresis with the default quorum', (d) => (d.spec.services[0].hysteresis = 1), [[`${svc0}.hysteresis`, 'hysteresis must be smaller than quorum']]],
  ['directors naming a missing node', (d) => (d.spec.services[0].directors = ['dr1', 'dr9']), [[`${svc0}.directors[1]`, 'no node named "dr9" in spec.nodes']]],
  ['directors naming a real server', (d) => (d.spec.services[0].directors = ['rs2']), [[`${svc0}.directors[0]`, 'node "rs2" is a realserver, not a director']]],
  [
    'services but no director',
    (d) => {
      d.spec.vrrp = undefined;
      d.spec.syncGroups = undefined;
      d.spec.connectionSync = undefined;
      d.spec.nodes = d.spec.nodes.slice(2);
    },
    [
      [svc0, 'no director in spec.nodes can serve this service'],
      ['spec.services[1]', 'no director in spec.nodes can serve this service'],
    ],
  ],
  ['check interval under 10ms', (d) => (d.spec.services[0].healthCheck.interval = '5ms'), [[`${svc0}.healthCheck.interval`, 'interval is at least 10ms']]],
  [
    'check timeout 0s',
    (d) => (d.spec.services[0].realServers[1].healthCheck = { type: 'tcp', timeout: '0s' }),
    [[`${rs(1)}.healthCheck.timeout`, 'timeout must be positive']],
  ],
  [
    'urls and path together',
    (d) => (d.spec.services[0].healthCheck.urls = [{ path: '/a' }]),
    [[`${svc0}.healthCheck.urls`, 'use either urls or path/digest/expectStatus, not both']],
  ],
  [
    'sni: true without virtualhost',
    (d) => (d.spec.services[0].healthCheck = { type: 'https', sni: true }),
    [[`${svc0}.healthCheck.sni`, 'sni: true sends the virtualhost; set virtualhost or give the name']],
  ],
  [
    'udp reply length range upside down',
    (d) => (d.spec.services[0].healthCheck = { type: 'udp', requireReply: true, minReplyLength: 10, maxReplyLength: 4 }),
    [[`${svc0}.healthCheck.minReplyLength`, 'minReplyLength must not exceed maxReplyLength']],
  ],
  [
    'tcp check on an fwmark service without a port',
    (d) => (d.spec.services[1].healthCheck = { type: 'tcp' }),
    [['spec.services[1].healthCheck.port', 'this real server has no port (fwmark or port 0 service): give the check a port']],
  ],
  [
    'real server check on a port-0 service without a port',
    (d) => {
      d.spec.services[0].port = 0;
      d.spec.services[0].realServers[2].port = 0;
      d.spec.services[0].healthCheck.port = 80;
      d.spec.services[0].realServers[1].healthCheck = { type: 'smtp' };
    },
    [[`${rs(1)}.healthCheck.port`, 'this real server has no port (fwmark or port 0 service): give the check a port']],
  ],
  [
    'empty status range',
    (d) => (d.spec.services[0].healthCheck.expectStatus = [200, '299-200']),
    [[`${svc0}.healthCheck.expectStatus[1]`, 'range 299-200 is empty']],
  ],
  [
    'empty status range inside urls',
    (d) => (d.spec.services[0].healthCheck = { type: 'http', urls: [{ path: '/' }, { path: '/b', expectStatus: ['500-400'] }] }),
    [[`${svc0}.healthCheck.urls[1].expectStatus[0]`, 'range 500-400 is empty']],
  ],
  [
    'real server with node and address',
    (d) => (d.spec.services[0].realServers[0].address = '10.99.0.11'),
    [[`${rs(0)}.address`, 'give node or address, not both']],
  ],
  ['real server with neither node nor address', (d) => (d.spec.services[0].realServers[2] = { port: 80 }), [[rs(2), 'node or address is required']]],
  ['real server node that does not exist', (d) => (d.spec.services[0].realServers[1].node = 'rs9'), [[`${rs(1)}.node`, 'no node named "rs9" in spec.nodes']]],
  [
    'real server node that is a director',
    (d) => (d.spec.services[0].realServers[1].node = 'dr2'),
    [[`${rs(1)}.node`, 'node "dr2" is a director; real servers must have role realserver']],
  ],
  [
    'DR real server mapping the port',
    (d) => (d.spec.services[0].realServers[2].port = 8080),
    [[`${rs(2)}.port`, 'DR forwarding cannot map ports: use 80 or NAT']],
  ],
  [
    'DR real server with a port, service without one: no "undefined" in the message',
    (d) => {
      delete d.spec.services[0].port;
      d.spec.services[0].realServers[2].port = 8080;
    },
    [
      [`${svc0}.port`, 'port is required (or fwmark)'],
      [`${svc0}.healthCheck.port`, 'this real server has no port (fwmark or port 0 service): give the check a port'],
      [`${rs(2)}.port`, 'DR forwarding cannot map ports: give the service a port and use it here, or NAT'],
    ],
  ],
  [
    'TUN real server mapping the port',
    (d) => Object.assign(d.spec.services[0].realServers[0], { forwarding: 'tun', port: 81 }),
    [[`${rs(0)}.port`, 'TUN forwarding cannot map ports: use 80 or NAT']],
  ],
  [
    'DR sorry server mapping the port',
    (d) => (d.spec.services[0].sorryServer = { address: '10.99.0.50', port: 8080 }),
    [[`${svc0}.sorryServer.port`, 'DR forwarding cannot map ports: use 80 or NAT']],
  ],
  [
    'lowerThreshold above upperThreshold',
    (d) => Object.assign(d.spec.services[0].realServers[0], { lowerThreshold: 100, upperThreshold: 50 }),
    [[`${rs(0)}.lowerThreshold`, 'lowerThreshold must not exceed upperThreshold']],
  ],
  [
    'real server listed twice',
    (d) => d.spec.services[0].realServers.push({ address: '10.99.0.13' }),
    [[rs(3), 'real server 10.99.0.13:80 is listed twice (also at spec.services[0].realServers[2])']],
  ],
  [
    'real server node also listed by address',
    (d) => d.spec.services[0].realServers.push({ address: '10.99.0.11', port: 80 }),
    [[rs(3), 'real server 10.99.0.11:80 is listed twice (also at spec.services[0].realServers[0])']],
  ],
  // BFD
  [
    'BFD session on a real server, and an unknown node',
    (d) =>
      (d.spec.bfd = [
        { name: 'b', between: ['dr1', 'rs1'] },
        { name: 'c', node: 'dr9', peer: '10.99.0.254' },
      ]),
    [
      ['spec.bfd[0].between[1]', 'node "rs1" is a realserver; BFD sessions run on directors'],
      ['spec.bfd[1].node', 'no node named "dr9" in spec.nodes'],
    ],
  ],
  [
    'BFD session with both forms',
    (d) => (d.spec.bfd = [{ name: 'b', between: ['dr1', 'dr2'], node: 'dr1', peer: '10.99.0.254' }]),
    [['spec.bfd[0]', 'give either between or node and peer, not both']],
  ],
  ['BFD session with neither form', (d) => (d.spec.bfd = [{ name: 'b', node: 'dr1' }]), [['spec.bfd[0]', 'give between: [nodeA, nodeB], or node and peer']]],
  [
    'BFD session between a node and itself',
    (d) => (d.spec.bfd = [{ name: 'b', between: ['dr1', 'dr1'] }]),
    [['spec.bfd[0].between[1]', 'a session needs two different nodes']],
  ],
  [
    'BFD peer is the node itself',
    (d) => (d.spec.bfd = [{ name: 'b', node: 'dr1', peer: '10.99.0.1' }]),
    [['spec.bfd[0].peer', '10.99.0.1 is the address of dr1 itself']],
  ],
  [
    'BFD interval out of range',
    (d) => (d.spec.bfd = [{ name: 'b', between: ['dr1', 'dr2'], minRx: '0ms', minTx: '11s' }]),
    [
      ['spec.bfd[0].minRx', 'minRx must be from 1ms to 10s'],
      ['spec.bfd[0].minTx', 'minTx must be from 1ms to 10s'],
    ],
  ],
  [
    'two BFD sessions between the same addresses',
    (d) =>
      (d.spec.bfd = [
        { name: 'b', between: ['dr1', 'dr2'] },
        { name: 'c', node: 'dr1', peer: '10.99.0.2' },
      ]),
    [['spec.bfd[1]', 'dr1 already has BFD session "b" to 10.99.0.2; one session per pair of addresses']],
  ],
  [
    'duplicate BFD session name',
    (d) =>
      (d.spec.bfd = [
        { name: 'b', node: 'dr1', peer: '10.99.0.254' },
        { name: 'b', node: 'dr2', peer: '10.99.0.254' },
      ]),
    [['spec.bfd[1].name', 'duplicate BFD session name "b" (also at spec.bfd[0])']],
  ],
  [
    'trackBfd of an unknown session, and of one no member runs',
    (d) => {
      d.spec.nodes.push({ name: 'dr3', role: 'director', address: '10.99.0.3' });
      d.spec.bfd = [{ name: 'gw3', node: 'dr3', peer: '10.99.0.254' }];
      d.spec.vrrp[0].trackBfd = [{ name: 'nope' }, { name: 'gw3', weight: -20 }];
    },
    [
      ['spec.vrrp[0].trackBfd[0].name', 'no BFD session named "nope" in spec.bfd (or a default pair session)'],
      ['spec.vrrp[0].trackBfd[1].name', 'BFD session "gw3" runs on none of this instance\'s members'],
    ],
  ],
];

/** Valid variations near the rules above: each must pass, so the rules are not too broad. */
const VALID_CASES: [name: string, mutate: (d: Doc) => void][] = [
  [
    'same VRID on another interface',
    (d) => {
      d.spec.vrrp[1].vrid = 50;
      d.spec.vrrp[1].interface = 'eth1';
    },
  ],
  [
    'priority 255 for the VIP owner',
    (d) => {
      d.spec.vrrp[1].vips = ['10.99.0.2/32'];
      d.spec.vrrp[1].members[1].priority = 255;
    },
  ],
  ['PASS password of exactly 8 bytes', (d) => (d.spec.vrrp[0].auth.password = '12345678')],
  ['VRRPv3 at 30ms without auth', (d) => Object.assign(d.spec.vrrp[1], { version: 3, advertInterval: '30ms' })],
  ['same VIP:port over UDP', (d) => d.spec.services.push({ name: 'web-udp', vip: '10.99.0.100', port: 80, protocol: 'udp', realServers: [] })],
  ['NAT real server mapping the port', (d) => Object.assign(d.spec.services[0].realServers[2], { forwarding: 'nat', port: 8080 })],
  [
    'port 0 with persistence',
    (d) => {
      d.spec.services[0].port = 0;
      d.spec.services[0].realServers[2].port = 0;
      d.spec.services[0].healthCheck.port = 80;
    },
  ],
  // keepalived passes port 0 and the kernel keeps the packet's destination port.
  ['NAT real server of an fwmark service without a port', (d) => (d.spec.services[1].realServers[0].forwarding = 'nat')],
  // keepalived runs a VRRPv2 instance without VIPs (notify scripts add the addresses).
  ['VRRPv2 instance without VIPs', (d) => (d.spec.vrrp[1].vips = [])],
  ['hysteresis below quorum', (d) => Object.assign(d.spec.services[0], { quorum: 3, hysteresis: 2 })],
  ['sh flags on sh', (d) => (d.spec.services[1].schedulerFlags = ['sh-fallback', 'sh-port'])],
  ['script timeout longer than its interval (keepalived allows it)', (d) => Object.assign(d.spec.vrrpScripts[0], { interval: '1s', timeout: '3s' })],
  ["bare persistence: keepalived's 360s", (d) => (d.spec.services[0].persistence = {})],
  ['VIP label on an explicit device', (d) => (d.spec.vrrp[0].vips = [{ address: '10.99.0.100/32', interface: 'eth1', label: 'eth1:web' }])],
  [
    'ping and misc checks need no port on an fwmark service',
    (d) => {
      d.spec.services[1].healthCheck = { type: 'ping' };
      d.spec.services[1].realServers[0].healthCheck = { type: 'misc', command: '/bin/true' };
    },
  ],
  [
    'unicast with one member and an extra peer',
    (d) => Object.assign(d.spec.vrrp[1], { unicast: true, members: [{ node: 'dr1', priority: 100 }], unicastPeers: ['10.99.0.3'] }),
  ],
  [
    'BFD to a gateway, tracked with a weight',
    (d) => {
      d.spec.bfd = [{ name: 'gw', node: 'dr1', peer: '10.99.0.254', minRx: '10ms', minTx: '10ms', multiplier: 5 }];
      d.spec.vrrp[0].trackBfd = [{ name: 'gw', weight: -20 }];
    },
  ],
  [
    'a dual-stack site: an IPv6 instance in a sync group with an IPv4 one, a dual-stack service',
    (d) => {
      dualStackDirectors(d);
      d.spec.nodes[2].address6 = '2001:db8::11';
      d.spec.nodes[3].address6 = '2001:db8::12';
      d.spec.vrrp[1].vips = ['2001:db8::101/64', { address: 'fe80::101/64', interface: 'eth0' }];
      delete d.spec.services[0].vip;
      d.spec.services[0].vips = ['2001:DB8::0:100', '10.99.0.100'];
      d.spec.services[0].realServers.push({ address: '2001:db8::13', port: 80 });
      d.spec.services[0].sorryServer = { address: '2001:db8::99' };
    },
  ],
  [
    // RFC 5798 §7.3: each family has its own virtual MAC range and group; keepalived allows it.
    'the same VRID for an IPv4 and an IPv6 instance on one interface',
    (d) => {
      dualStackDirectors(d);
      Object.assign(d.spec.vrrp[1], { vrid: 50, vips: ['2001:db8::101/64'] });
    },
  ],
  [
    'an IPv6-only VRRPv3 unicast instance with link-local sources on a named interface',
    (d) => {
      d.spec.vrrp[1] = {
        name: 'VI_2',
        vrid: 51,
        family: 6,
        vips: ['2001:db8::101/64'],
        unicast: true,
        unicastPeers: ['fe80::3'],
        members: [
          { node: 'dr1', priority: 100, sourceAddress: 'fe80::1' },
          { node: 'dr2', priority: 90, sourceAddress: 'fe80::2' },
        ],
      };
    },
  ],
  [
    'IPv4 real servers behind an IPv6 VIP by TUN (no connection sync)',
    (d) => {
      delete d.spec.connectionSync;
      Object.assign(d.spec.services[0], { vip: '2001:db8::100', forwarding: 'tun' });
      delete d.spec.services[0].persistence;
      delete d.spec.services[0].realServers[2].port;
    },
  ],
  ['an IPv6 fwmark service', (d) => Object.assign(d.spec.services[1], { family: 6, realServers: [{ address: '2001:db8::11' }] })],
  ['tracking the default pair session', (d) => (d.spec.vrrp[1].trackBfd = [{ name: 'pair-dr1-dr2' }])],
  ['explicit session replaces the default pair one', (d) => (d.spec.bfd = [{ name: 'dr-pair', between: ['dr2', 'dr1'] }])],
];

describe('validateSite: semantic rules', () => {
  it.each(SEMANTIC_CASES)('%s', (_name, mutate, issues) => {
    const doc = baseDoc();
    mutate(doc);
    const r = validateSite(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => [i.path, i.message])).toEqual(issues);
  });

  it.each(VALID_CASES)('accepts: %s', (_name, mutate) => {
    const doc = baseDoc();
    mutate(doc);
    const r = validateSite(doc);
    expect(r.ok ? [] : r.issues).toEqual([]);
  });
});

/** Every message the semantic rules can produce, as a pattern (template holes match anything). */
function ruleMessages(): { source: string; pattern: RegExp }[] {
  const names = readdirSync(import.meta.dirname).filter((f) => /^semantic.*\.ts$/.test(f) && !f.endsWith('.test.ts'));
  const files = [...names, 'issues.ts'].map((f) => readFileSync(join(import.meta.dirname, f), 'utf8'));
  const literals = files.flatMap((text) => [...text.matchAll(/message(?::| =) (`[^`]*`|'[^']*')/g)].map((m) => m[1].slice(1, -1)));
  return literals
    .filter((l) => l !== '${i.message}' && l !== 'unknown field' && !l.startsWith('${i.path'))
    .map((source) => ({
      source,
      pattern: new RegExp(
        `^${source
          .split(/\$\{[^}]*\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.+')}$`,
      ),
    }));
}

describe('rule coverage', () => {
  it('every semantic rule message has at least one invalid case above', () => {
    const expected = SEMANTIC_CASES.flatMap(([, , issues]) => issues.map(([, message]) => message));
    const rules = ruleMessages();
    expect(rules.length).toBeGreaterThan(50);
    expect(rules.some((r) => r.source.startsWith('VRRPv2 adverts'))).toBe(true);
    const uncovered = rules.filter((r) => !expected.some((m) => r.pattern.test(m))).map((r) => r.source);
    expect(uncovered).toEqual([]);
  });
});
