/**
 * vrrp_instance → a FileInstance (keepalived.conf(5), "VRRP instance(s)"). Per-director
 * values (state, priority, interface, unicast_src_ip) are kept apart from the shared ones so
 * several directors' files can be merged.
 */
import { mapTrackBfd } from './map-bfd.ts';
import type { Vip } from '../site/vrrp.ts';
import type { FileImport, FileInstance } from './model.ts';
import type { Stmt } from './parser.ts';
import { notifyHandlers, specName } from './map-vrrp.ts';
import { cidr, entries, flag, int, ip, one, seconds, needsBlock } from './values.ts';
import { error, lenient, walk, warn, type Cx, type Handler } from './walk.ts';

const INSTANCE_UNSUPPORTED = [
  'use_vmac',
  'vmac_xmit_base',
  'smtp_alert',
  'strict_mode',
  'accept',
  'no_accept',
  'debug',
  'virtual_routes',
  'virtual_rules',
  'track_file',
  'track_process',
  'skip_check_adv_addr',
  'check_unicast_src',
  'garp_lower_prio_delay',
  'garp_lower_prio_repeat',
  'lower_prio_no_advert',
  'higher_prio_send_advert',
  'kernel_rx_buf_size',
  'notify_master_rx_lower_pri',
  'notify_deleted',
  'promote_secondaries',
  'linkbeat_use_polling',
  'gna_interval',
  'unicast_ttl',
  'old_unicast_checksum',
  'mcast_dst_ip',
  'unicast_fault_no_peer',
  'vrrp_ipsets',
  'notify_priority_changes',
  'track_src_ip',
];

type I = FileInstance;

/**
 * virtual_ipaddress / virtual_ipaddress_excluded entries. keepalived does not look for
 * repeats: it asks the kernel for each one and the second add of an address fails, so the
 * first entry (with its label) is what runs; the import keeps that one.
 */
function vipList(st: Stmt, s: I, cx: Cx): Vip[] {
  const out: Vip[] = [];
  for (const e of entries(st, cx)) {
    const addr = cidr(e.keyword.text);
    if (!addr) {
      error(cx, e.keyword, `${st.keyword.text}: "${e.keyword.text}" is not an IPv4 or IPv6 address (with an optional /prefix)`);
      continue;
    }
    let iface: string | undefined;
    let label: string | undefined;
    for (let i = 0; i < e.args.length; i++) {
      const opt = e.args[i].text;
      const val = e.args[i + 1]?.text;
      if ((opt === 'dev' || opt === 'label') && val !== undefined) {
        if (opt === 'dev') iface = val;
        else label = val;
        i++;
      } else {
        warn(cx, e.args[i], `${st.keyword.text} option "${opt}" cannot be expressed in a site spec; ignored`);
        if (['brd', 'broadcast', 'scope', 'table', 'metric', 'preferred_lft'].includes(opt)) i++;
      }
    }
    if (label !== undefined && addr.includes(':')) {
      warn(
        cx,
        e.keyword,
        `${st.keyword.text}: keepalived ignores a label on an IPv6 address ("Cannot specify label for IPv6 addresses"); label ${label} is dropped`,
      );
      label = undefined;
    }
    const first = s.vipAt.get(addr);
    if (first) {
      lenient(
        cx,
        e.keyword,
        `VIP ${addr} is listed twice (first at line ${first.line}): keepalived adds it once (the second add fails with "File exists"); this entry is dropped`,
      );
      continue;
    }
    s.vipAt.set(addr, e.keyword);
    out.push(iface || label ? { address: addr, ...(iface ? { interface: iface } : {}), ...(label ? { label } : {}) } : addr);
  }
  return out;
}

const instanceHandlers: Record<string, Handler<I>> = {
  // keepalived compares the state case-sensitively; anything but MASTER is BACKUP, and a
  // BACKUP after MASTER does not undo it.
  state: (st, s, cx) => {
    const v = one(st, cx);
    if (v === undefined) return;
    if (v === 'MASTER') s.state = v;
    else if (v === 'BACKUP') {
      if (s.state === 'MASTER') lenient(cx, st.keyword, 'state previously set as MASTER: keepalived ignores this BACKUP');
      else s.state = v;
    } else {
      lenient(cx, st.args[0], `unknown state "${v}": keepalived runs the instance as BACKUP`);
      if (s.state !== 'MASTER') s.state = 'BACKUP';
    }
  },
  interface: (st, s, cx) => {
    s.interface = one(st, cx);
  },
  virtual_router_id: (st, s, cx) => {
    const v = int(st, cx, 1, 255);
    if (v !== undefined) s.shared.vrid = v;
  },
  priority: (st, s, cx) => {
    s.priority = int(st, cx, 1, 255);
  },
  advert_int: (st, s, cx) => {
    s.shared.advertInterval = seconds(st, cx);
  },
  version: (st, s, cx) => {
    const v = int(st, cx, 2, 3);
    if (v === 2 || v === 3) s.shared.version = v;
  },
  authentication: (st, s, cx) => {
    if (!needsBlock(st, cx)) return;
    const a: { type?: string; password?: string } = {};
    walk(st.block, st, a, cx, {
      what: 'authentication',
      handlers: {
        auth_type: (x, t, c) => {
          const v = one(x, c);
          if (v === 'PASS' || v === 'AH') t.type = v;
          // keepalived reports it and keeps the type it had (PASS).
          else if (v !== undefined) lenient(c, x.args[0], `unknown auth_type "${v}": keepalived keeps PASS`);
        },
        auth_pass: (x, t, c) => {
          const v = one(x, c);
          if (v !== undefined && new TextEncoder().encode(v).length > 8)
            warn(c, x.args[0], 'auth_pass is longer than 8 characters; keepalived uses only the first 8 (RFC 3768 §5.3.10)');
          t.password = v === undefined ? undefined : v.slice(0, 8);
        },
      },
    });
    if (!a.password) error(cx, st.keyword, 'authentication needs auth_pass');
    else if (a.type === 'AH')
      lenient(
        cx,
        st.keyword,
        'auth_type AH cannot be expressed (lvsfleet speaks no IPsec AH); the instance is imported without authentication, so move every member of it off keepalived together: a keepalived peer still on AH ignores adverts without it',
      );
    else s.shared.auth = { type: 'PASS', password: a.password };
  },
  virtual_ipaddress: (st, s, cx) => {
    s.shared.vips.push(...vipList(st, s, cx));
  },
  virtual_ipaddress_excluded: (st, s, cx) => {
    s.shared.excludedVips = [...(s.shared.excludedVips ?? []), ...vipList(st, s, cx)];
  },
  nopreempt: (st, s, cx) => {
    flag(st, cx);
    s.shared.preempt = false;
  },
  preempt: (st, s, cx) => {
    flag(st, cx);
    s.shared.preempt = true;
  },
  preempt_delay: (st, s, cx) => {
    s.shared.preemptDelay = seconds(st, cx);
  },
  unicast_src_ip: (st, s, cx) => {
    s.unicastSrcIp = ip(st, cx);
  },
  mcast_src_ip: (st, s, cx) => {
    s.unicastSrcIp ??= ip(st, cx);
  },
  /** keepalived: an IPv6 instance even before (or without) an IPv6 virtual_ipaddress. */
  native_ipv6: (st, s, cx) => {
    flag(st, cx);
    s.shared.family = 6;
  },
  unicast_peer: (st, s, cx) => {
    s.unicastPeers ??= [];
    for (const e of entries(st, cx)) {
      const peer = ip(e, cx, e.keyword.text);
      if (peer) s.unicastPeers.push(peer);
      if (e.args.length) warn(cx, e.args[0], `unicast_peer options cannot be expressed in a site spec; ignored "${e.args.map((a) => a.text).join(' ')}"`);
    }
  },
  track_interface: (st, s, cx) => {
    s.shared.trackInterfaces ??= [];
    for (const e of entries(st, cx)) {
      const w = weightOpt(e, cx);
      s.shared.trackInterfaces.push({ interface: e.keyword.text, ...(w !== undefined ? { weight: w } : {}) });
    }
  },
  track_script: (st, s, cx) => {
    s.shared.trackScripts ??= [];
    for (const e of entries(st, cx)) {
      const w = weightOpt(e, cx);
      s.shared.trackScripts.push({ script: e.keyword.text, ...(w !== undefined ? { weight: w } : {}) });
      s.trackScriptAt.push(e.keyword);
    }
  },
  track_bfd: (st, s, cx) => {
    s.shared.trackBfd = [...(s.shared.trackBfd ?? []), ...mapTrackBfd(entries(st, cx), cx)];
  },
  garp_master_delay: (st, s, cx) => {
    s.shared.garp = { ...s.shared.garp, masterDelay: seconds(st, cx) };
  },
  garp_master_repeat: (st, s, cx) => {
    s.shared.garp = { ...s.shared.garp, masterRepeat: int(st, cx, 1, 255) };
  },
  garp_master_refresh: (st, s, cx) => {
    s.shared.garp = { ...s.shared.garp, masterRefresh: seconds(st, cx) };
  },
  garp_master_refresh_repeat: (st, s, cx) => {
    s.shared.garp = { ...s.shared.garp, masterRefreshRepeat: int(st, cx, 1, 255) };
  },
  garp_interval: (st, s, cx) => {
    s.shared.garp = { ...s.shared.garp, interval: seconds(st, cx) };
  },
  dont_track_primary: (st, s, cx) => {
    flag(st, cx);
    s.shared.dontTrackPrimary = true;
  },
};
// notify* write to the shared part of the instance.
for (const k of ['notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify']) {
  const h = notifyHandlers<I['shared']>()[k];
  instanceHandlers[k] = (st, s, cx) => h(st, s.shared, cx);
}

/** `NAME weight N` in track_interface / track_script. */
function weightOpt(e: Stmt, cx: Cx): number | undefined {
  if (e.args.length === 0) return undefined;
  if (e.args[0].text !== 'weight' || e.args.length !== 2) {
    warn(cx, e.args[0], `options "${e.args.map((a) => a.text).join(' ')}" after ${e.keyword.text} cannot be expressed; ignored`);
    return undefined;
  }
  return int(e, cx, -253, 253, e.args[1].text);
}

/**
 * What keepalived corrects when it completes an instance (vrrp.c, vrrp_complete_instance):
 * nopreempt is cleared for the address owner (priority 255) and with state MASTER,
 * preempt_delay with state MASTER and with nopreempt. Each is a warning naming the line.
 */
function completeInstance(inst: FileInstance, body: Stmt[], cx: Cx): void {
  const at = (kw: string) => [...body].reverse().find((x) => x.keyword.text === kw)?.keyword ?? inst.at;
  const name = inst.shared.name;
  if (inst.shared.preempt === false && inst.priority === 255) {
    lenient(cx, at('nopreempt'), `vrrp_instance ${name}: keepalived clears nopreempt for priority 255 (the address owner always preempts)`);
    delete inst.shared.preempt;
  }
  if (inst.state === 'MASTER') {
    if (inst.shared.preempt === false) {
      lenient(cx, at('nopreempt'), `vrrp_instance ${name}: nopreempt does not work with state MASTER; keepalived clears it (this director preempts)`);
      delete inst.shared.preempt;
    }
    if (inst.shared.preemptDelay !== undefined) {
      lenient(cx, at('preempt_delay'), `vrrp_instance ${name}: preempt_delay does not work with state MASTER; keepalived clears it`);
      delete inst.shared.preemptDelay;
    }
  }
  if (inst.shared.preemptDelay !== undefined && inst.shared.preempt === false) {
    lenient(cx, at('preempt_delay'), `vrrp_instance ${name}: preempt_delay is incompatible with nopreempt; keepalived resets it`);
    delete inst.shared.preemptDelay;
  }
}

/** vrrp_instance NAME { … } → one FileInstance (null when unusable). */
export function mapInstance(st: Stmt, f: FileImport, cx: Cx, onMisplaced: (st: Stmt) => void): void {
  if (!needsBlock(st, cx)) return;
  if (st.args.length !== 1) return void error(cx, st.keyword, 'vrrp_instance needs one name');
  const name = specName(st.args[0], cx, 'vrrp_instance') ?? st.args[0].text;
  const inst: FileInstance = { at: st.keyword, shared: { name, vrid: 0, vips: [] }, unicastPeers: null, vipAt: new Map(), trackScriptAt: [] };
  walk(st.block, st, inst, cx, {
    what: `vrrp_instance ${name}`,
    handlers: {
      ...instanceHandlers,
      // keepalived takes the first sync interface of the file (global lvs_sync_daemon or this
      // deprecated form) and ignores later ones.
      lvs_sync_daemon_interface: (x, _s, c) => {
        const iface = one(x, c);
        if (!iface) return;
        if (f.connectionSync) {
          const first = f.connectionSync;
          lenient(
            c,
            x.keyword,
            `lvs_sync_daemon_interface has already been specified as ${first.sync.interface} (line ${first.at.line}); keepalived ignores this one`,
          );
          return;
        }
        warn(
          c,
          x.keyword,
          'lvs_sync_daemon_interface in a vrrp_instance is deprecated in keepalived (global_defs lvs_sync_daemon replaces it); imported as connectionSync',
        );
        f.connectionSync = { at: x.keyword, sync: { instance: name, interface: iface } };
      },
    },
    unsupported: INSTANCE_UNSUPPORTED,
    onMisplacedTopLevel: onMisplaced,
  });
  const said = (kw: string) => st.block!.some((x) => x.keyword.text === kw);
  // A keyword that is there with a bad value was reported already; only report one that is missing.
  if (inst.shared.vrid === 0) return void (said('virtual_router_id') || error(cx, st.keyword, `vrrp_instance ${name} has no virtual_router_id`));
  if (inst.shared.vips.length === 0) {
    // Entries that were all wrong were reported already; keepalived's verdict on an instance
    // without VIPs depends on the file's vrrp_version and vrrp_strict (noVipVerdict).
    if (said('virtual_ipaddress') && cx.diags.some((d) => d.severity === 'error')) return;
    inst.noVip = { strict: st.block!.some((x) => x.keyword.text === 'strict_mode' && !/^(off|false|no|0)$/i.test(x.args[0]?.text ?? '')) };
  }
  completeInstance(inst, st.block!, cx);
  f.instances.push(inst);
}

/**
 * keepalived's verdict on the file's instances without VIPs (vrrp.c, vrrp_complete_instance),
 * once its vrrp_version and vrrp_strict are known: VRRPv2 runs with a warning ("No VIP
 * specified; at least one is sensible"), advertising no address; VRRPv3 and strict mode are
 * refused ("at least one is required"), so keepalived would not start the file's VRRP at all.
 */
export function noVipVerdict(f: FileImport, vrrpStrict: boolean, cx: Cx): void {
  for (const inst of f.instances) {
    if (!inst.noVip) continue;
    const name = inst.shared.name;
    const version = inst.shared.version ?? f.vrrpVersion ?? 2;
    if (version === 3 || vrrpStrict || inst.noVip.strict) {
      const why = version === 3 ? 'VRRPv3' : inst.noVip.strict ? 'strict_mode' : 'vrrp_strict';
      error(cx, inst.at, `vrrp_instance ${name} has no virtual_ipaddress: keepalived refuses it with ${why} ("No VIP specified; at least one is required")`);
    } else
      lenient(
        cx,
        inst.at,
        `vrrp_instance ${name} has no virtual_ipaddress: keepalived runs it with a warning, advertising no address (notify scripts may add them); imported with vips: []`,
      );
  }
}
