import { describe, expect, it } from 'vitest';
import { validateSite } from './validate.ts';
import { baseDoc, type Doc } from './site.test-support.ts';

type Row = [name: string, mutate: (d: Doc) => void, issues: [path: string, message: string][]];

const svc0 = 'spec.services[0]';
const unknown = 'unknown field';
const durationMsg = 'expected a duration with a unit, like 100ms, 1s or 2m';
const ipMsg = 'expected an IPv4 or IPv6 address, like 192.168.1.150 or 2001:db8::10';
const nameMsg = 'expected a name of letters, digits, "_", "." and "-" (at most 63, starting with a letter or digit)';
const siteNameMsg = 'expected a site name of letters, digits, "_" and "-" (at most 63, starting with a letter or digit; no ".")';
const ifaceMsg = 'expected an interface name of 1–15 characters without spaces, "/" or ":"';

/** Shape errors (zod): one small mutation of the valid base per row, with the exact issues. */
const SHAPE_CASES: Row[] = [
  ['unknown field at the root', (d) => (d.extra = 1), [['extra', unknown]]],
  ['unknown field in metadata', (d) => (d.metadata.owner = 'me'), [['metadata.owner', unknown]]],
  ['unknown field in spec', (d) => (d.spec.vips = []), [['spec.vips', unknown]]],
  ['unknown field in a node', (d) => (d.spec.nodes[0].mac = 'aa'), [['spec.nodes[0].mac', unknown]]],
  ['unknown field in a member', (d) => (d.spec.vrrp[0].members[1].weight = 2), [['spec.vrrp[0].members[1].weight', unknown]]],
  ['unknown field in a VIP object', (d) => (d.spec.vrrp[0].vips = [{ address: '10.99.0.100/32', dev: 'eth0' }]), [['spec.vrrp[0].vips[0].dev', unknown]]],
  ['misspelled field: did you mean', (d) => (d.spec.services[0].schedular = 'rr'), [[`${svc0}.schedular`, 'unknown field; did you mean "scheduler"?']]],
  [
    'misspelled field in a list member and in a health check (a union)',
    (d) => {
      d.spec.vrrp[0].members[1].priorty = 2;
      d.spec.services[0].healthCheck.intervall = '1s';
    },
    [
      ['spec.vrrp[0].members[1].priorty', 'unknown field; did you mean "priority"?'],
      [`${svc0}.healthCheck.intervall`, 'unknown field; did you mean "interval"?'],
    ],
  ],
  ['a field too far from any to guess', (d) => (d.spec.services[0].zzzzzz = 1), [[`${svc0}.zzzzzz`, unknown]]],
  [
    'misspelled scheduler: did you mean',
    (d) => (d.spec.services[0].scheduler = 'wlcc'),
    [[`${svc0}.scheduler`, '"wlcc" is not one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos; did you mean "wlc"?']],
  ],
  [
    'misspelled check type: did you mean',
    (d) => (d.spec.services[0].healthCheck.type = 'htp'),
    [[`${svc0}.healthCheck.type`, '"htp" is not one of tcp, http, https, smtp, dns, misc, udp, ping; did you mean "http"?']],
  ],
  ['http field in a tcp check', (d) => (d.spec.services[0].healthCheck = { type: 'tcp', path: '/' }), [[`${svc0}.healthCheck.path`, unknown]]],
  [
    'unknown field in a real server check',
    (d) => (d.spec.services[0].realServers[0].healthCheck = { type: 'ping', count: 3 }),
    [[`${svc0}.realServers[0].healthCheck.count`, unknown]],
  ],
  [
    'two unknown fields, one issue each',
    (d) => Object.assign(d.spec.services[0].persistence, { a: 1, b: 2 }),
    [
      [`${svc0}.persistence.a`, unknown],
      [`${svc0}.persistence.b`, unknown],
    ],
  ],
  [
    'document is not an object',
    (d) => {
      for (const k of Object.keys(d)) delete d[k];
      d.apiVersion = 'lvsfleet/v1';
      d.kind = 'Site';
      d.metadata = { name: 'x' };
      d.spec = [];
    },
    [['spec', 'Invalid input: expected object, received array']],
  ],
  ['wrong apiVersion', (d) => (d.apiVersion = 'lvsfleet/v2'), [['apiVersion', 'expected "lvsfleet/v1", not "lvsfleet/v2"']]],
  ['wrong kind', (d) => (d.kind = 'Cluster'), [['kind', 'expected "Site", not "Cluster"']]],
  ['missing metadata', (d) => delete d.metadata, [['metadata', 'Invalid input: expected object, received undefined']]],
  ['site name with a space', (d) => (d.metadata.name = 'bj dc1'), [['metadata.name', siteNameMsg]]],
  ['site name with a dot (nodeId = site.node)', (d) => (d.metadata.name = 'bj.dc1'), [['metadata.name', siteNameMsg]]],
  ['node name with a slash (MQTT topic level)', (d) => (d.spec.nodes[0].name = 'dr/1'), [['spec.nodes[0].name', nameMsg]]],
  ['no nodes', (d) => (d.spec.nodes = []), [['spec.nodes', 'Too small: expected array to have >=1 items']]],
  ['unknown role', (d) => (d.spec.nodes[2].role = 'backend'), [['spec.nodes[2].role', '"backend" is not one of director, realserver']]],
  ['node address out of range', (d) => (d.spec.nodes[0].address = '10.99.0.256'), [['spec.nodes[0].address', ipMsg]]],
  ['node address with a prefix', (d) => (d.spec.nodes[0].address = '10.99.0.1/24'), [['spec.nodes[0].address', ipMsg]]],
  ['interface name too long', (d) => (d.spec.nodes[0].interface = 'enp0s31f6-uplink'), [['spec.nodes[0].interface', ifaceMsg]]],
  ['interface name with a colon', (d) => (d.spec.vrrp[0].interface = 'eth0:1'), [['spec.vrrp[0].interface', ifaceMsg]]],
  ['VRID as a string', (d) => (d.spec.vrrp[0].vrid = '50'), [['spec.vrrp[0].vrid', 'Invalid input: expected number, received string']]],
  ['VRID 0', (d) => (d.spec.vrrp[0].vrid = 0), [['spec.vrrp[0].vrid', 'Too small: expected number to be >=1']]],
  ['VRID 256', (d) => (d.spec.vrrp[0].vrid = 256), [['spec.vrrp[0].vrid', 'Too big: expected number to be <=255']]],
  ['VRID not an integer', (d) => (d.spec.vrrp[0].vrid = 50.5), [['spec.vrrp[0].vrid', 'Invalid input: expected int, received number']]],
  ['VRRP version 4', (d) => (d.spec.vrrp[0].version = 4), [['spec.vrrp[0].version', 'expected VRRP version 2 or 3']]],
  ['priority 0', (d) => (d.spec.vrrp[0].members[0].priority = 0), [['spec.vrrp[0].members[0].priority', 'Too small: expected number to be >=1']]],
  ['priority 256', (d) => (d.spec.vrrp[0].members[0].priority = 256), [['spec.vrrp[0].members[0].priority', 'Too big: expected number to be <=255']]],
  ['advert interval without a unit', (d) => (d.spec.vrrp[0].advertInterval = '1'), [['spec.vrrp[0].advertInterval', durationMsg]]],
  [
    'advert interval as a number',
    (d) => (d.spec.vrrp[0].advertInterval = 1),
    [['spec.vrrp[0].advertInterval', 'Invalid input: expected string, received number']],
  ],
  ['duration with an unknown unit', (d) => (d.spec.services[0].persistence.timeout = '2d'), [[`${svc0}.persistence.timeout`, durationMsg]]],
  [
    'duration over 31 days (LVS_MAX_TIMEOUT)',
    (d) => (d.spec.services[0].persistence.timeout = '745h'),
    [[`${svc0}.persistence.timeout`, 'at most 744h (31 days)']],
  ],
  ['negative duration', (d) => (d.spec.vrrpScripts[0].interval = '-2s'), [['spec.vrrpScripts[0].interval', durationMsg]]],
  ['auth type MD5', (d) => (d.spec.vrrp[0].auth.type = 'MD5'), [['spec.vrrp[0].auth.type', '"MD5" is not one of PASS, AH']]],
  [
    'unquoted PASS password (a YAML number)',
    (d) => (d.spec.vrrp[0].auth.password = 1111),
    [['spec.vrrp[0].auth.password', 'expected a string: quote it, like "1111"']],
  ],
  ['missing PASS password', (d) => delete d.spec.vrrp[0].auth.password, [['spec.vrrp[0].auth.password', 'password is required']]],
  ['empty PASS password', (d) => (d.spec.vrrp[0].auth.password = ''), [['spec.vrrp[0].auth.password', 'Too small: expected string to have >=1 characters']]],
  [
    'VIP prefix /33',
    (d) => (d.spec.vrrp[0].vips = ['10.99.0.100/33']),
    [['spec.vrrp[0].vips[0]', 'expected an address with an optional prefix, like 192.168.1.150/32 or 2001:db8::10/64']],
  ],
  ['unicast peer not an address', (d) => (d.spec.vrrp[0].unicastPeers = ['dr3.example']), [['spec.vrrp[0].unicastPeers[0]', ipMsg]]],
  [
    'track interface weight 254',
    (d) => (d.spec.vrrp[0].trackInterfaces = [{ interface: 'eth1', weight: 254 }]),
    [['spec.vrrp[0].trackInterfaces[0].weight', 'Too big: expected number to be <=253']],
  ],
  ['track script weight -254', (d) => (d.spec.vrrpScripts[0].weight = -254), [['spec.vrrpScripts[0].weight', 'Too small: expected number to be >=-253']]],
  ['script rise 0', (d) => (d.spec.vrrpScripts[0].rise = 0), [['spec.vrrpScripts[0].rise', 'Too small: expected number to be >=1']]],
  ['garp repeat 0', (d) => (d.spec.vrrp[0].garp = { masterRepeat: 0 }), [['spec.vrrp[0].garp.masterRepeat', 'Too small: expected number to be >=1']]],
  [
    'sync group of one instance',
    (d) => (d.spec.syncGroups[0].instances = ['VI_1']),
    [['spec.syncGroups[0].instances', 'Too small: expected array to have >=2 items']],
  ],
  ['service VIP with three octets', (d) => (d.spec.services[0].vip = '10.99.0'), [[`${svc0}.vip`, ipMsg]]],
  ['service port 65536', (d) => (d.spec.services[0].port = 65536), [[`${svc0}.port`, 'Too big: expected number to be <=65535']]],
  ['service port -1', (d) => (d.spec.services[0].port = -1), [[`${svc0}.port`, 'Too small: expected number to be >=0']]],
  ['protocol icmp', (d) => (d.spec.services[0].protocol = 'icmp'), [[`${svc0}.protocol`, '"icmp" is not one of tcp, udp, sctp']]],
  ['fwmark 0', (d) => (d.spec.services[1].fwmark = 0), [['spec.services[1].fwmark', 'Too small: expected number to be >=1']]],
  [
    'unknown scheduler',
    (d) => (d.spec.services[0].scheduler = 'random'),
    [[`${svc0}.scheduler`, '"random" is not one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos']],
  ],
  [
    'unknown scheduler flag',
    (d) => (d.spec.services[1].schedulerFlags = ['sh-random']),
    [['spec.services[1].schedulerFlags[0]', '"sh-random" is not one of sh-fallback, sh-port, mh-fallback, mh-port']],
  ],
  ['forwarding masq', (d) => (d.spec.services[0].forwarding = 'masq'), [[`${svc0}.forwarding`, '"masq" is not one of dr, nat, tun']]],
  [
    'real server weight 65536',
    (d) => (d.spec.services[0].realServers[0].weight = 65536),
    [[`${svc0}.realServers[0].weight`, 'Too big: expected number to be <=65535']],
  ],
  [
    "real server weight -30 (the seeds' typo)",
    (d) => (d.spec.services[0].realServers[0].weight = -30),
    [[`${svc0}.realServers[0].weight`, 'Too small: expected number to be >=0']],
  ],
  ['quorum 0', (d) => (d.spec.services[0].quorum = 0), [[`${svc0}.quorum`, 'Too small: expected number to be >=1']]],
  [
    'persistence netmask not an address',
    (d) => (d.spec.services[0].persistence.netmask = '/24'),
    [[`${svc0}.persistence.netmask`, 'expected an IPv4 address like 192.168.1.150']],
  ],
  [
    'check type icmp',
    (d) => (d.spec.services[0].healthCheck.type = 'icmp'),
    [[`${svc0}.healthCheck.type`, '"icmp" is not one of tcp, http, https, smtp, dns, misc, udp, ping']],
  ],
  [
    'check without type',
    (d) => delete d.spec.services[0].healthCheck.type,
    [[`${svc0}.healthCheck.type`, 'required: one of tcp, http, https, smtp, dns, misc, udp, ping']],
  ],
  ['check path without a slash', (d) => (d.spec.services[0].healthCheck.path = 'health'), [[`${svc0}.healthCheck.path`, 'path must start with /']]],
  ['check digest not MD5', (d) => (d.spec.services[0].healthCheck.digest = 'abc'), [[`${svc0}.healthCheck.digest`, 'expected an MD5 digest of 32 hex digits']]],
  [
    'status code as a pattern',
    (d) => (d.spec.services[0].healthCheck.expectStatus = ['2xx']),
    [[`${svc0}.healthCheck.expectStatus[0]`, 'expected a status code or a range like 200-299']],
  ],
  [
    'status code 600',
    (d) => (d.spec.services[0].healthCheck.expectStatus = [600]),
    [[`${svc0}.healthCheck.expectStatus[0]`, 'Too big: expected number to be <=599']],
  ],
  [
    'status code as a boolean',
    (d) => (d.spec.services[0].healthCheck.expectStatus = [true]),
    [[`${svc0}.healthCheck.expectStatus[0]`, 'expected a status code or a range like 200-299']],
  ],
  [
    'sni as a number',
    (d) => (d.spec.services[0].healthCheck = { type: 'https', sni: 5 }),
    [[`${svc0}.healthCheck.sni`, 'expected true, false or a server name']],
  ],
  [
    'VIP as a number',
    (d) => (d.spec.vrrp[0].vips = [123]),
    [['spec.vrrp[0].vips[0]', 'expected a VIP like 192.168.1.150/32, 2001:db8::10/64 or { address, interface?, label? }']],
  ],
  [
    'VIP object without address',
    (d) => (d.spec.vrrp[0].vips = [{ label: 'eth0:1' }]),
    [['spec.vrrp[0].vips[0]', 'expected a VIP like 192.168.1.150/32, 2001:db8::10/64 or { address, interface?, label? }']],
  ],
  [
    'node label value not a string',
    (d) => (d.spec.nodes[0].labels = { rack: 7 }),
    [['spec.nodes[0].labels.rack', 'Invalid input: expected string, received number']],
  ],
  ['check retries -1', (d) => (d.spec.services[0].healthCheck.retries = -1), [[`${svc0}.healthCheck.retries`, 'Too small: expected number to be >=0']]],
  ['check connect port 0', (d) => (d.spec.services[0].healthCheck.port = 0), [[`${svc0}.healthCheck.port`, 'Too small: expected number to be >=1']]],
  [
    'misc check without command',
    (d) => (d.spec.services[0].healthCheck = { type: 'misc' }),
    [[`${svc0}.healthCheck.command`, 'Invalid input: expected string, received undefined']],
  ],
  [
    'dns query type PTR',
    (d) => (d.spec.services[0].healthCheck = { type: 'dns', queryType: 'PTR' }),
    [[`${svc0}.healthCheck.queryType`, '"PTR" is not one of A, NS, CNAME, SOA, MX, TXT, AAAA']],
  ],
  ['udp payload not hex', (d) => (d.spec.services[0].healthCheck = { type: 'udp', payload: 'xyz' }), [[`${svc0}.healthCheck.payload`, 'expected hex bytes']]],
  ['connection sync id 256', (d) => (d.spec.connectionSync.syncId = 256), [['spec.connectionSync.syncId', 'Too big: expected number to be <=255']]],
  [
    'connection sync maxlen 0',
    (d) => (d.spec.connectionSync.maxlen = 0),
    [['spec.connectionSync.maxlen', 'expected a sync message size in bytes, at least 1']],
  ],
  [
    'connection sync maxlen over a UDP datagram',
    (d) => (d.spec.connectionSync.maxlen = 65508),
    [['spec.connectionSync.maxlen', 'expected at most 65507 bytes (65535 less the IPv4 and UDP headers: the kernel cuts a larger maxlen to that)']],
  ],
  ['connection sync maxlen 1.5', (d) => (d.spec.connectionSync.maxlen = 1.5), [['spec.connectionSync.maxlen', 'Invalid input: expected int, received number']]],
  [
    'connection sync group not multicast',
    (d) => (d.spec.connectionSync.group = '2001:db8::81'),
    [['spec.connectionSync.group', 'expected a multicast group, like 224.0.0.81 or ff02::81']],
  ],
];

// Each case twice: jitless, as the CLI validates, and with zod's compiled fast path, as the API
// server does (validate.ts): the issues and the parsed site must not depend on which.
describe.each([
  ['jitless', {}],
  ['jit', { jit: true }],
] as const)('validateSite: shape, %s', (_mode, opts) => {
  it('accepts the base site, the same site either way', () => {
    const r = validateSite(baseDoc(), opts);
    expect(r.ok ? [] : r.issues).toEqual([]);
    expect(r).toEqual(validateSite(baseDoc()));
  });

  it.each(SHAPE_CASES)('%s', (_name, mutate, issues) => {
    const doc = baseDoc();
    mutate(doc);
    const r = validateSite(doc, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => [i.path, i.message])).toEqual(issues);
  });

  it('null input is one issue at the root', () => {
    expect(validateSite(null, opts)).toEqual({ ok: false, issues: [{ path: '', message: 'Invalid input: expected object, received null' }] });
  });
});
