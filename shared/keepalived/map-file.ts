/**
 * One director's keepalived.conf (parsed) → FileImport: global_defs and every top-level
 * block. Notification settings of global_defs are kept as `keepalived.org/…` annotations.
 */
import type { Diagnostic } from './diagnostics.ts';
import { emptyFileImport, type FileImport } from './model.ts';
import type { Stmt } from './parser.ts';
import { mapBfd } from './map-bfd.ts';
import { mapInstance, noVipVerdict } from './map-instance.ts';
import { mapScript, mapSyncGroup, resolveVrrpReferences } from './map-vrrp.ts';
import { mapServerGroup, mapVirtualServer } from './map-lvs.ts';
import { canonicalIp, ipFamily, isMulticast } from '../util/ip.ts';
import { entries, flag, int, one, rest, seconds } from './values.ts';
import { error, lenient, walk, warn, type Cx, type Handler } from './walk.ts';

export const ANNOTATION_PREFIX = 'keepalived.org/';
const ANNOTATED = ['notification_email_from', 'smtp_server', 'smtp_connect_timeout', 'smtp_helo_name'];

const GLOBAL_UNSUPPORTED = [
  'vrrp_skip_check_adv_addr',
  'vrrp_strict',
  'vrrp_gna_interval',
  'vrrp_mcast_group4',
  'vrrp_mcast_group6',
  'vrrp_iptables',
  'lvs_flush',
  'vrrp_garp_master_delay',
  'vrrp_garp_master_repeat',
  'vrrp_garp_master_refresh',
  'vrrp_garp_master_refresh_repeat',
  'vrrp_priority',
  'checker_priority',
  'vrrp_no_swap',
  'checker_no_swap',
  'dynamic_interfaces',
  'vrrp_check_unicast_src',
  'lvs_timeouts',
  'default_interface',
  'max_auto_priority',
  'vrrp_startup_delay',
  'vrrp_garp_lower_prio_delay',
  'vrrp_garp_lower_prio_repeat',
  'vrrp_lower_prio_no_advert',
  'vrrp_higher_prio_send_advert',
  'vrrp_rx_bufs_policy',
  'process_names',
  'vrrp_notify_fifo',
  'notify_fifo',
  'lvs_notify_fifo',
  'snmp_socket',
  'enable_snmp_vrrp',
  'enable_snmp_checker',
  'enable_snmp_rfc',
  'enable_traps',
  'no_email_faults',
  'smtp_alert',
  'smtp_alert_vrrp',
  'smtp_alert_checker',
  'use_pid_dir',
  'linkbeat_use_polling',
  'startup_script',
  'shutdown_script',
  'umask',
  'nftables',
  'vrrp_version_strict',
  'lvs_sync_daemon_interface',
  'vrrp_min_garp',
  'vrrp_netlink_cmd_rcv_bufs',
  'vrrp_netlink_monitor_rcv_bufs',
  'checker_log_all_failures',
  'vrrp_process_name',
  'checker_process_name',
  'bfd_process_name',
  'lvs_netlink_cmd_rcv_bufs',
  'lvs_netlink_monitor_rcv_bufs',
  'vrrp_ipsets',
  'vrrp_notify_priority_changes',
  'random_seed',
  'reload_time_file',
  'reload_repeat',
  'reload_file',
  'config_save_dir',
  'vrrp_cpu_affinity',
  'checker_cpu_affinity',
  'vrrp_rlimit_rttime',
  'checker_rlimit_rttime',
  'vrrp_rt_priority',
  'checker_rt_priority',
  'data_use_instance',
  'vrrp_owner_ignore_adverts',
  'vrrp_log_unknown_vrids',
  'notify_fifo_script',
  'vrrp_notify_fifo_script',
  'lvs_notify_fifo_script',
  'fifo_write_vrrp_states_on_reload',
  'vrrp_garp_extra_if',
  'vrrp_gna_interval',
  'no_checker_emails',
  'max_auto_priority',
  'min_auto_priority_delay',
  'tmp_config_directory',
  'script_security',
  'vrrp_symlinks',
];
const ROOT_UNSUPPORTED = [
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'vrrp_track_process',
  'track_file',
  'vrrp_track_file',
  'linkbeat_interfaces',
  'garp_group',
  'net_namespace',
  'instance',
  'use_pid_dir',
];

const globalHandlers: Record<string, Handler<FileImport>> = {
  // lvsfleet runs scripts as root with their files checked, which is what these two ask for.
  enable_script_security: (st, _f, cx) => {
    flag(st, cx);
  },
  script_user: (st, _f, cx) => {
    if (one(st, cx) !== 'root')
      warn(cx, st.keyword, 'script_user other than root cannot be expressed (lvsfleet runs scripts as root, or as the user of each script); ignored');
  },
  vrrp_garp_interval: (st, f, cx) => {
    f.garpInterval = seconds(st, cx);
  },
  router_id: (st, f, cx) => {
    if (one(st, cx) !== undefined) f.routerId = st.args[0];
  },
  lvs_id: (st, f, cx) => {
    if (one(st, cx) !== undefined) f.routerId = st.args[0];
  },
  notification_email: (st, f, cx) => {
    const list = entries(st, cx).flatMap((e) => [e.keyword.text, ...e.args.map((a) => a.text)]);
    if (list.length) f.annotations[`${ANNOTATION_PREFIX}notification_email`] = list.join(',');
  },
  vrrp_version: (st, f, cx) => {
    const v = int(st, cx, 2, 3);
    if (v === 2 || v === 3) f.vrrpVersion = v;
  },
  lvs_sync_daemon: (st, f, cx) => {
    // lvs_sync_daemon INTERFACE VRRP_INSTANCE [id SYNC_ID] [maxlen BYTES] [port …] [ttl …] [group …]
    const [iface, inst, ...opts] = st.args;
    if (!iface || !inst) return void error(cx, st.keyword, 'lvs_sync_daemon needs an interface and a vrrp_instance name');
    if (f.connectionSync) {
      const first = f.connectionSync;
      return void lenient(
        cx,
        st.keyword,
        `lvs_sync_daemon has already been specified as ${first.sync.interface} (line ${first.at.line}); keepalived ignores this one`,
      );
    }
    let syncId: number | undefined;
    let group: string | undefined;
    let maxlen: number | undefined;
    for (let i = 0; i < opts.length; i += 2) {
      if (opts[i].text === 'id') syncId = int(st, cx, 0, 255, opts[i + 1]?.text);
      else if (opts[i].text === 'maxlen') {
        // keepalived reads 1–65507 (65535 less the IPv4 and UDP headers) and passes it to both daemons.
        const v = opts[i + 1]?.text ?? '';
        if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65507) maxlen = Number(v);
        else error(cx, opts[i], `lvs_sync_daemon maxlen ${v || '(missing)'}: expected a sync message size of 1–65507 bytes`);
      } else if (opts[i].text === 'group') {
        const g = opts[i + 1]?.text ?? '';
        // keepalived refuses a group that is not a multicast address of either family.
        if (ipFamily(g) !== null && isMulticast(g)) group = canonicalIp(g);
        else error(cx, opts[i], `lvs_sync_daemon group ${g || '(missing)'}: expected a multicast address, like 224.0.0.81 or ff02::81`);
      } else
        cx.diags.push({
          severity: 'warning',
          file: opts[i].file,
          line: opts[i].line,
          message: `lvs_sync_daemon option ${opts[i].text} cannot be expressed in a site spec; ignored`,
        });
    }
    f.connectionSync = {
      at: st.keyword,
      sync: {
        instance: inst.text,
        interface: iface.text,
        ...(syncId !== undefined ? { syncId } : {}),
        ...(group !== undefined ? { group } : {}),
        ...(maxlen !== undefined ? { maxlen } : {}),
      },
    };
  },
};
for (const k of ANNOTATED) {
  globalHandlers[k] = (st, f, cx) => {
    const v = rest(st, cx);
    if (v !== undefined) f.annotations[`${ANNOTATION_PREFIX}${k}`] = v;
  };
}

/** Maps the top-level statements of one file; diagnostics are appended to `diags`. */
export function mapFile(file: string, statements: Stmt[], diags: Diagnostic[]): FileImport {
  const cx: Cx = { diags };
  const f = emptyFileImport(file);
  const groups = new Map<string, Parameters<typeof mapServerGroup>[1] extends Map<string, infer E> ? E : never>();
  // virtual_server_group may follow the virtual_server that uses it: collect groups first.
  for (const st of statements) if (st.keyword.text === 'virtual_server_group') mapServerGroup(st, groups, cx);
  const rootHandlers: Record<string, Handler<FileImport>> = {
    global_defs: (st, s, c) => walk(st.block, st, s, c, { what: 'global_defs', handlers: globalHandlers, unsupported: GLOBAL_UNSUPPORTED }),
    vrrp_script: (st, s, c) => mapScript(st, s, c),
    vrrp_instance: (st, s, c) => mapInstance(st, s, c, misplaced),
    vrrp_sync_group: (st, s, c) => mapSyncGroup(st, s, c),
    virtual_server: (st, s, c) => mapVirtualServer(st, s, groups, c),
    virtual_server_group: () => {},
    bfd_instance: (st, s, c) => mapBfd(st, s, c),
  };
  // A top-level block swallowed by an unclosed one is still mapped, so its own mistakes are reported too.
  function misplaced(st: Stmt): void {
    rootHandlers[st.keyword.text]?.(st, f, cx);
  }
  walk(statements, null, f, cx, { what: 'the top level', handlers: rootHandlers, unsupported: ROOT_UNSUPPORTED });
  const vrrpStrict = statements.some((st) => st.keyword.text === 'global_defs' && (st.block ?? []).some((x) => x.keyword.text === 'vrrp_strict'));
  noVipVerdict(f, vrrpStrict, cx);
  resolveVrrpReferences(f, cx);
  // vrrp_garp_interval is per director in keepalived, per instance in the spec.
  if (f.garpInterval) for (const i of f.instances) if (!i.shared.garp?.interval) i.shared.garp = { ...i.shared.garp, interval: f.garpInterval };
  return f;
}
