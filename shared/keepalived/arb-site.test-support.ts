/**
 * fast-check generator of valid site specs in the importer's canonical form: the shape
 * `import(export(spec))` gives back for features both sides express. Canonical means: every
 * director is a member of every instance (members and services' `directors` in node order),
 * nodes carry the interface, durations are written as formatDuration writes them, services
 * state protocol/scheduler/forwarding and real servers port/weight, a check shared by every
 * real server sits on the service, addresses not nodes for real servers. It also avoids
 * what keepalived -t warns about or overrides (nopreempt with state MASTER, state MASTER in a
 * sync group, weighted tracking in a sync group, tracking the instance's own interface).
 */
import fc from 'fast-check';
import type { HealthCheck } from '../site/health-check.ts';
import type { RealServer, Service } from '../site/service.ts';
import type { Site } from '../site/site.ts';
import type { VrrpInstance, VrrpScript } from '../site/vrrp.ts';
import { formatDuration } from '../util/duration.ts';
import { canonicalIp } from '../util/ip.ts';

const secs = (min: number, max: number) => fc.integer({ min, max }).map((s) => formatDuration(s * 1000));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const cmd = fc.constantFrom('/bin/true', '/bin/echo', '/bin/echo with args');

function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const timing = {
  interval: opt(secs(1, 120)),
  timeout: opt(secs(1, 30)),
  retries: opt(fc.integer({ min: 0, max: 10 })),
  retryDelay: opt(secs(1, 10)),
  warmup: opt(secs(1, 10)),
};
const probe = { port: opt(fc.integer({ min: 1, max: 65535 })), address: opt(fc.constant('10.55.0.9')), bindTo: opt(fc.constant('10.55.0.8')) };
const status = fc.oneof(fc.constantFrom(200, 204, 301), fc.constantFrom('200-299', '200-399'));
const digest = fc.stringMatching(/^[0-9a-f]{32}$/);
const path = fc.constantFrom('/', '/health', '/status/ready');

const httpish = {
  ...timing,
  ...probe,
  virtualhost: opt(fc.constantFrom('www.example.com', 'api.example.com')),
};
const single = fc.record({ path, digest: opt(digest), expectStatus: opt(fc.uniqueArray(status, { minLength: 1, maxLength: 2 })) });
const urls = fc.uniqueArray(fc.record({ path, digest: opt(digest), expectStatus: opt(fc.uniqueArray(status, { minLength: 1, maxLength: 2 })) }).map(clean), {
  minLength: 2,
  maxLength: 3,
  selector: (u) => u.path,
});

const arbCheck: fc.Arbitrary<HealthCheck> = fc
  .oneof(
    fc.record({ type: fc.constant('tcp' as const), ...timing, ...probe }),
    fc
      .record({ type: fc.constant('http' as const), ...httpish, u: fc.oneof(single, urls) })
      .map(({ u, ...c }) => (Array.isArray(u) ? { ...c, urls: u } : { ...c, ...clean(u) })),
    fc
      .record({ type: fc.constant('https' as const), ...httpish, u: fc.oneof(single, urls), sni: opt(fc.constant(true as const)) })
      .map(({ u, ...c }) => (Array.isArray(u) ? { ...c, urls: u } : { ...c, ...clean(u) }))
      .map((c) => (c.sni && !c.virtualhost ? { ...c, virtualhost: 'www.example.com' } : c)),
    fc.record({ type: fc.constant('smtp' as const), ...timing, ...probe, helo: opt(fc.constant('lb.example.com')) }),
    fc.record({
      type: fc.constant('dns' as const),
      ...timing,
      ...probe,
      queryType: opt(fc.constantFrom('A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA' as const)),
      name: opt(fc.constantFrom('example.com', 'www.example.com')),
    }),
    fc.record({ type: fc.constant('misc' as const), ...timing, command: cmd, dynamic: opt(fc.constant(true)) }),
    fc
      .record({
        type: fc.constant('udp' as const),
        ...timing,
        ...probe,
        payload: opt(fc.constantFrom('0a0b', '4f5054494f4e53')),
        reply: fc.constantFrom('none', 'any', 'expect'),
      })
      .map(({ reply, ...c }) => (reply === 'none' ? c : reply === 'any' ? { ...c, requireReply: true } : { ...c, requireReply: true, expect: '5349502f' })),
    fc.record({ type: fc.constant('ping' as const), ...timing }),
  )
  .map((c) => clean(c) as HealthCheck);

/** Service i's addresses in one family: the VIP, the sorry server, real server j. */
function addressesOf(i: number, v6: boolean) {
  return v6
    ? { vip: `2001:db8:88::${i + 1}`, sorry: '2001:db8:88:1::99', rs: (j: number) => `2001:db8:88:2::${10 * i + j + 1}` }
    : { vip: `10.88.0.${i + 1}`, sorry: '10.88.1.99', rs: (j: number) => `10.88.2.${10 * i + j + 1}` };
}

function arbService(i: number, directors: string[], ipv6: boolean): fc.Arbitrary<Service> {
  const fwmark = i === 3;
  return fc
    .record({
      v6: ipv6 ? fc.boolean() : fc.constant(false),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      scheduler: fc.constantFrom('rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'sed', 'nq' as const),
      forwarding: fc.constantFrom('dr' as const, 'nat' as const, 'tun' as const),
      persistence: opt(fc.record({ timeout: secs(1, 3600), netmask: opt(fc.constantFrom('255.255.255.0', '255.255.0.0')) }).map(clean)),

      onePacket: opt(fc.constant(true)),
      sorry: opt(fc.record({ inhibit: opt(fc.constant(true)), forwarding: opt(fc.constantFrom('dr' as const, 'nat' as const)) })),
      quorum: opt(fc.integer({ min: 2, max: 10 })),
      hysteresis: opt(fc.integer({ min: 0, max: 1 })),
      quorumUp: opt(cmd),
      quorumDown: opt(cmd),
      alpha: opt(fc.constant(true)),
      omega: opt(fc.constant(true)),
      inhibitOnFailure: opt(fc.constant(true)),
      checkOn: fc.constantFrom('none', 'service', 'first'),
      check: arbCheck,
      rs: fc.array(
        fc.record({
          weight: fc.integer({ min: 0, max: 65535 }),
          natPort: fc.integer({ min: 1, max: 65535 }),
          forwarding: opt(fc.constantFrom('dr' as const, 'nat' as const, 'tun' as const)),
          upperThreshold: opt(fc.integer({ min: 100, max: 1000 })),
          lowerThreshold: opt(fc.integer({ min: 1, max: 99 })),
          notifyUp: opt(cmd),
          notifyDown: opt(cmd),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      on: fc.subarray(directors, { minLength: 1 }),
    })
    .map((r) => {
      const port = 80 + i;
      const at = addressesOf(i, r.v6);
      const svc: Service = {
        name: fwmark ? `fwmark-${10 + i}${r.v6 ? '-v6' : ''}` : `${r.protocol}-${at.vip.replaceAll(':', '-')}-${port}`,
        ...(fwmark ? { fwmark: 10 + i, ...(r.v6 ? { family: 6 as const } : {}) } : { vip: at.vip, port, protocol: r.protocol }),
        scheduler: r.scheduler as Service['scheduler'],
        forwarding: r.forwarding,
        realServers: [],
      };
      if (r.scheduler === 'sh' || r.scheduler === 'mh') svc.schedulerFlags = [`${r.scheduler}-port` as 'sh-port'];
      // A netmask groups IPv4 clients only.
      if (r.persistence) svc.persistence = r.v6 ? { timeout: r.persistence.timeout } : r.persistence;
      if (r.onePacket && !fwmark && r.protocol === 'udp') svc.onePacket = true;
      if (r.sorry) {
        const f = r.sorry.forwarding ?? r.forwarding;
        svc.sorryServer = clean({
          address: at.sorry,
          port: fwmark && f !== 'nat' ? undefined : f === 'nat' ? 8080 : port,
          inhibit: r.sorry.inhibit,
          forwarding: r.sorry.forwarding,
        });
      }
      if (r.quorum) {
        svc.quorum = r.quorum;
        if (r.hysteresis !== undefined) svc.hysteresis = r.hysteresis;
      }
      Object.assign(svc, clean({ quorumUp: r.quorumUp, quorumDown: r.quorumDown, alpha: r.alpha, omega: r.omega, inhibitOnFailure: r.inhibitOnFailure }));
      // A DR/TUN real server of an fwmark service has no port: its check needs one.
      const probed = fwmark && !['misc', 'ping'].includes(r.check.type) ? ({ ...r.check, port: 8080 } as HealthCheck) : r.check;
      // A probe's addresses are of its real server's family (keepalived skips a bindto of the other).
      const check = r.v6
        ? (clean({
            ...probed,
            address: probed.address && '2001:db8:55::9',
            bindTo: probed.bindTo && '2001:db8:55::8',
          }) as HealthCheck)
        : probed;
      if (r.checkOn === 'service') svc.healthCheck = check;
      svc.realServers = r.rs.map((x, j): RealServer => {
        const fwd = x.forwarding ?? r.forwarding;
        const rsPort = fwd === 'nat' ? x.natPort : fwmark ? undefined : port;
        return clean({
          address: at.rs(j),
          port: rsPort,
          weight: x.weight,
          forwarding: x.forwarding && x.forwarding !== r.forwarding ? x.forwarding : undefined,
          upperThreshold: x.upperThreshold,
          lowerThreshold: x.upperThreshold ? x.lowerThreshold : undefined,
          notifyUp: x.notifyUp,
          notifyDown: x.notifyDown,
          // A check on some real servers only (all of them would be the service's).
          healthCheck: r.checkOn === 'first' && j === 0 && r.rs.length > 1 ? check : undefined,
        });
      });
      // keepalived warns (and lowers the quorum) when the weights cannot reach it.
      const total = svc.realServers.reduce((a, x) => a + (x.weight ?? 1), 0);
      if (total < (svc.quorum ?? 1)) svc.realServers[0].weight = (svc.realServers[0].weight ?? 0) + (svc.quorum ?? 1) - total;
      if (r.on.length < directors.length) svc.directors = directors.filter((d) => r.on.includes(d));
      return svc;
    });
}

/**
 * Sites with 1–3 directors on `ifaces[0]`; `ifaces[1]`, when given, is used for track_interface.
 * With `ipv6`, each service and each VRRP instance is IPv4 or IPv6 at random; an IPv6 instance
 * is VRRPv3 and unicast (its unicast_src_ip is what tells the importer the node's address6), and
 * the directors of a site with one are dual stack.
 */
export function arbSite(ifaces: string[], { ipv6 = false }: { ipv6?: boolean } = {}): fc.Arbitrary<Site> {
  const [if0, if1] = ifaces;
  return fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      nInst: fc.integer({ min: 0, max: 3 }),
      nSvc: fc.integer({ min: 0, max: 4 }),
      scripts: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom('chk_a', 'chk_b'),
          script: cmd,
          interval: opt(secs(2, 10)),
          timeout: opt(secs(1, 2)),
          weight: opt(fc.integer({ min: -50, max: 50 })),
          rise: opt(fc.integer({ min: 1, max: 5 })),
          fall: opt(fc.integer({ min: 1, max: 5 })),
          user: opt(fc.constant('root')),
        }),
        { maxLength: 2, selector: (s) => s.name },
      ),
      inst: fc.array(
        fc.record({
          version: fc.constantFrom(undefined, 2 as const, 3 as const),
          v6: ipv6 ? fc.boolean() : fc.constant(false),
          advert: fc.integer({ min: 1, max: 5 }),
          pass: opt(fc.stringMatching(/^[A-Za-z0-9]{1,8}$/)),
          nopreempt: fc.boolean(),
          preemptDelay: opt(secs(1, 60)),
          vipStyle: fc.constantFrom('plain', 'slash24', 'dev', 'label'),
          excluded: fc.boolean(),
          priorities: fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 3, maxLength: 3 }),
          master: fc.boolean(),
          unicast: fc.constantFrom('no', 'yes', 'extra'),
          trackIf: fc.boolean(),
          notify: opt(fc.record({ master: opt(cmd), backup: opt(cmd), fault: opt(cmd), stop: opt(cmd), any: opt(cmd) }).map(clean)),
          garp: opt(
            fc
              .record({
                masterDelay: opt(secs(1, 10)),
                masterRepeat: opt(fc.integer({ min: 1, max: 10 })),
                masterRefresh: opt(secs(1, 60)),
                masterRefreshRepeat: opt(fc.integer({ min: 1, max: 5 })),
              })
              .map(clean),
          ),
          dontTrackPrimary: fc.boolean(),
          track: fc.boolean(),
          trackWeight: opt(fc.integer({ min: -20, max: 20 })),
        }),
        { minLength: 3, maxLength: 3 },
      ),
      sync: fc.boolean(),
      connSync: opt(fc.record({ syncId: opt(fc.integer({ min: 0, max: 255 })), maxlen: opt(fc.integer({ min: 1, max: 65487 })) })),
      annotations: fc.boolean(),
      svcs: fc.tuple(...[0, 1, 2, 3].map((i) => arbService(i, ['dr1', 'dr2', 'dr3'], ipv6))),
    })
    .map((r) => {
      const names = ['dr1', 'dr2', 'dr3'].slice(0, r.n);
      // keepalived.conf names a director's interface only in its vrrp_instances.
      const dual = r.inst.slice(0, r.nInst).some((x) => x.v6);
      const nodes = names.map((name, i) => ({
        name,
        role: 'director' as const,
        address: `10.77.0.${i + 1}`,
        ...(dual ? { address6: `2001:db8:77::${i + 1}` } : {}),
        ...(r.nInst ? { interface: if0 } : {}),
      }));
      const syncGroup = r.sync && r.nInst >= 2;
      const scripts: VrrpScript[] = r.scripts.map((s) =>
        clean({ ...s, weight: syncGroup ? undefined : s.weight, timeout: s.interval ? s.timeout : undefined }),
      );
      const vrrp: VrrpInstance[] = r.inst.slice(0, r.nInst).map((x, k) => {
        const version = x.v6 ? 3 : x.version;
        const vip = x.v6 ? canonicalIp(`2001:db8:66:${k}::1`) : `10.66.${k}.1`;
        const [host, net] = x.v6 ? [128, 64] : [32, 24];
        const v =
          x.vipStyle === 'plain'
            ? `${vip}/${host}`
            : x.vipStyle === 'slash24'
              ? `${vip}/${net}`
              : x.vipStyle === 'dev' || x.v6 // address labels are IPv4 only
                ? { address: `${vip}/${host}`, interface: if0 }
                : { address: `${vip}/${host}`, interface: if0, label: `${if0}:${k}` };
        const unicast = x.v6 ? (names.length > 1 ? (x.unicast === 'extra' ? 'extra' : 'yes') : 'extra') : x.unicast;
        const inst: VrrpInstance = clean({
          name: `VI_${k + 1}`,
          vrid: 10 + k,
          version,
          advertInterval: formatDuration(version === 3 ? x.advert * 50 : x.advert * 1000),
          auth: version !== 3 && x.pass ? { type: 'PASS' as const, password: x.pass } : undefined,
          preempt: x.nopreempt ? false : undefined,
          preemptDelay: x.nopreempt ? undefined : x.preemptDelay,
          vips: [v],
          excludedVips: x.excluded ? [x.v6 ? `${canonicalIp(`2001:db8:66:${k}::200`)}/128` : `10.66.${k}.200/32`] : undefined,
          members: names.map((node, i) =>
            clean({
              node,
              priority: x.priorities[i],
              initialState: x.master && !syncGroup && !x.nopreempt && !x.preemptDelay && i === 0 ? ('MASTER' as const) : undefined,
            }),
          ),
          unicast: unicast !== 'no' && names.length > 1 ? true : unicast === 'extra' ? true : undefined,
          unicastPeers: unicast === 'extra' ? [x.v6 ? '2001:db8:66:9::9' : '10.66.9.9'] : undefined,
          trackInterfaces: x.trackIf && if1 ? [clean({ interface: if1, weight: syncGroup ? undefined : x.trackWeight })] : undefined,
          trackScripts: x.track && scripts.length ? [clean({ script: scripts[0].name, weight: syncGroup ? undefined : x.trackWeight })] : undefined,
          notify: x.notify && Object.keys(x.notify).length ? x.notify : undefined,
          garp: x.garp && Object.keys(x.garp).length ? x.garp : undefined,
          dontTrackPrimary: x.dontTrackPrimary || undefined,
        });
        return inst;
      });
      const spec: Site['spec'] = { nodes };
      if (vrrp.length) spec.vrrp = vrrp;
      if (scripts.length) spec.vrrpScripts = scripts;
      if (syncGroup) spec.syncGroups = [{ name: 'G1', instances: vrrp.map((v) => v.name) }];
      const services = r.svcs.slice(0, r.nSvc).map((s) => (s.directors ? { ...s, directors: s.directors.filter((d) => names.includes(d)) } : s));
      const fixed = services.map((s) =>
        s.directors && (s.directors.length === 0 || s.directors.length === names.length) ? (({ directors: _d, ...rest }) => rest)(s) : s,
      );
      if (fixed.length) spec.services = fixed;
      if (r.connSync && vrrp.length)
        spec.connectionSync = clean({ instance: vrrp[0].name, interface: if0, syncId: r.connSync.syncId, maxlen: r.connSync.maxlen });
      const site: Site = { apiVersion: 'lvsfleet/v1', kind: 'Site', metadata: { name: 'rt' }, spec };
      if (r.annotations) {
        site.metadata.annotations = {
          'keepalived.org/notification_email': 'ops@example.com,noc@example.com',
          'keepalived.org/notification_email_from': 'lb@example.com',
          'keepalived.org/smtp_server': '10.55.0.25',
          'keepalived.org/smtp_connect_timeout': '30',
        };
      }
      return site;
    });
}
