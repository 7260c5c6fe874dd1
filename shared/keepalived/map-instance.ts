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
import { cidr, entries, flag, int, ipv4, one, seconds, needsBlock } from './values.ts';
import { error, walk, warn, type Cx, type Handler } from './walk.ts';

const INSTANCE_UNSUPPORTED = [
  'use_vmac',
  'vmac_xmit_base',
  'native_ipv6',
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

function vipList(st: Stmt, cx: Cx): Vip[] {
  const out: Vip[] = [];
  for (const e of entries(st, cx)) {
    const addr = cidr(e.keyword.text);
    if (!addr) {
      error(cx, e.keyword, `${st.keyword.text}: "${e.keyword.text}" is not an IPv4 address (IPv6 is not supported)`);
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
    out.push(iface || label ? { address: addr, ...(iface ? { interface: iface } : {}), ...(label ? { label } : {}) } : addr);
  }
  return out;
}

const instanceHandlers: Record<string, Handler<I>> = {
  state: (st, s, cx) => {
    const v = one(st, cx);
    if (v === 'MASTER' || v === 'BACKUP') s.state = v;
    else if (v !== undefined) error(cx, st.keyword, `state must be MASTER or BACKUP (upper case), not "${v}"`);
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
          else if (v !== undefined) error(c, x.keyword, `auth_type must be PASS or AH, not "${v}"`);
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
    else s.shared.auth = { type: (a.type ?? 'PASS') as 'PASS' | 'AH', password: a.password };
  },
  virtual_ipaddress: (st, s, cx) => {
    s.shared.vips.push(...vipList(st, cx));
  },
  virtual_ipaddress_excluded: (st, s, cx) => {
    s.shared.excludedVips = [...(s.shared.excludedVips ?? []), ...vipList(st, cx)];
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
    s.unicastSrcIp = ipv4(st, cx);
  },
  mcast_src_ip: (st, s, cx) => {
    s.unicastSrcIp ??= ipv4(st, cx);
  },
  unicast_peer: (st, s, cx) => {
    s.unicastPeers ??= [];
    for (const e of entries(st, cx)) {
      const ip = ipv4(e, cx, e.keyword.text);
      if (ip) s.unicastPeers.push(ip);
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

/** vrrp_instance NAME { … } → one FileInstance (null when unusable). */
export function mapInstance(st: Stmt, f: FileImport, cx: Cx, onMisplaced: (st: Stmt) => void): void {
  if (!needsBlock(st, cx)) return;
  if (st.args.length !== 1) return void error(cx, st.keyword, 'vrrp_instance needs one name');
  const name = specName(st.args[0], cx, 'vrrp_instance') ?? st.args[0].text;
  const inst: FileInstance = { at: st.keyword, shared: { name, vrid: 0, vips: [] }, unicastPeers: null };
  walk(st.block, st, inst, cx, {
    what: `vrrp_instance ${name}`,
    handlers: {
      ...instanceHandlers,
      lvs_sync_daemon_interface: (x, _s, c) => {
        const iface = one(x, c);
        if (iface) f.connectionSync = { at: x.keyword, sync: { instance: name, interface: iface } };
      },
    },
    unsupported: INSTANCE_UNSUPPORTED,
    onMisplacedTopLevel: onMisplaced,
  });
  const said = (kw: string) => st.block!.some((x) => x.keyword.text === kw);
  // A keyword that is there with a bad value was reported already; only report one that is missing.
  if (inst.shared.vrid === 0) return void (said('virtual_router_id') || error(cx, st.keyword, `vrrp_instance ${name} has no virtual_router_id`));
  if (inst.shared.vips.length === 0) {
    const reported = said('virtual_ipaddress') && cx.diags.some((d) => d.severity === 'error');
    if (!reported) error(cx, st.keyword, `vrrp_instance ${name} has no virtual_ipaddress; a site spec needs at least one`);
    return;
  }
  f.instances.push(inst);
}
