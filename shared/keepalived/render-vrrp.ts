/**
 * The VRRP half of a director's keepalived.conf: global_defs, vrrp_script, vrrp_instance,
 * vrrp_sync_group (keepalived.conf(5)). Only instances the node is a member of are written.
 */
import type { Node, Site } from '../site/site.ts';
import type { Vip, VrrpInstance } from '../site/vrrp.ts';
import { memberInterface } from '../site/defaults.ts';
import { instanceFamily, nodeAddress } from '../site/family.ts';
import { ANNOTATION_PREFIX } from './map-file.ts';
import { renderTrackBfd } from './render-bfd.ts';
import { type ConfWriter, secs, word } from './render-text.ts';

export interface RenderContext {
  site: Site;
  node: Node;
  nodes: ReadonlyMap<string, Node>;
  warnings: string[];
}

function vipLine(v: Vip): string {
  if (typeof v === 'string') return v;
  return [v.address, v.interface ? `dev ${v.interface}` : '', v.label ? `label ${v.label}` : ''].filter(Boolean).join(' ');
}

function notify(w: ConfWriter, n: VrrpInstance['notify']): void {
  if (!n) return;
  const keys = [
    ['master', 'notify_master'],
    ['backup', 'notify_backup'],
    ['fault', 'notify_fault'],
    ['stop', 'notify_stop'],
    ['any', 'notify'],
  ] as const;
  for (const [k, kw] of keys) if (n[k] !== undefined) w.line(`${kw} ${word(n[k]!)}`);
}

/** The instances this node takes part in. */
export function memberInstances(ctx: RenderContext): VrrpInstance[] {
  return (ctx.site.spec.vrrp ?? []).filter((i) => i.members.some((m) => m.node === ctx.node.name));
}

export function renderGlobal(w: ConfWriter, ctx: RenderContext, instances: VrrpInstance[]): void {
  const ann = ctx.site.metadata.annotations ?? {};
  w.block('global_defs', () => {
    w.line(`router_id ${ctx.node.name}`);
    const emails = ann[`${ANNOTATION_PREFIX}notification_email`];
    if (emails) w.block('notification_email', () => emails.split(',').forEach((e) => w.line(e)));
    for (const k of ['notification_email_from', 'smtp_server', 'smtp_connect_timeout', 'smtp_helo_name']) {
      const v = ann[`${ANNOTATION_PREFIX}${k}`];
      if (v !== undefined) w.line(`${k} ${v}`);
    }
    // Scripts run as root, as with lvsfleet's own agent; keepalived refuses to run them otherwise.
    if ((ctx.site.spec.vrrpScripts ?? []).length || hasScripts(ctx)) {
      w.line('enable_script_security');
      w.line('script_user root');
    }
    const sync = ctx.site.spec.connectionSync;
    const inst = sync && instances.find((i) => i.name === sync.instance);
    if (sync && !inst) ctx.warnings.push(`connectionSync follows ${sync.instance}, which ${ctx.node.name} is not a member of; lvs_sync_daemon is left out`);
    if (sync && inst) {
      const iface = sync.interface ?? ifaceOf(inst, ctx);
      w.line(
        `lvs_sync_daemon ${iface} ${sync.instance}${sync.syncId !== undefined ? ` id ${sync.syncId}` : ''}${sync.maxlen !== undefined ? ` maxlen ${sync.maxlen}` : ''}${sync.group !== undefined ? ` group ${sync.group}` : ''}`,
      );
    }
    const garps = new Set(instances.map((i) => i.garp?.interval));
    if (garps.size === 1 && [...garps][0] !== undefined) w.line(`vrrp_garp_interval ${secs([...garps][0])}`);
    else if (garps.size > 1)
      ctx.warnings.push('garp.interval differs between instances; keepalived has one vrrp_garp_interval per director, so it is left out');
  });
}

function hasScripts(ctx: RenderContext): boolean {
  const s = ctx.site.spec;
  return (
    (s.vrrp ?? []).some((i) => i.notify) ||
    (s.syncGroups ?? []).some((g) => g.notify) ||
    (s.services ?? []).some(
      (v) =>
        v.quorumUp || v.quorumDown || v.healthCheck?.type === 'misc' || v.realServers.some((r) => r.notifyUp || r.notifyDown || r.healthCheck?.type === 'misc'),
    )
  );
}

function ifaceOf(inst: VrrpInstance, ctx: RenderContext): string {
  return memberInterface(
    inst,
    inst.members.find((x) => x.node === ctx.node.name),
    ctx.node,
  );
}

export function renderScripts(w: ConfWriter, ctx: RenderContext): void {
  for (const s of ctx.site.spec.vrrpScripts ?? []) {
    w.block(`vrrp_script ${s.name}`, () => {
      w.line(`script ${word(s.script)}`);
      w.opt('interval', secs(s.interval)).opt('timeout', secs(s.timeout)).opt('weight', s.weight).opt('rise', s.rise).opt('fall', s.fall);
      w.opt('user', s.user);
    });
  }
}

export function renderInstance(w: ConfWriter, ctx: RenderContext, inst: VrrpInstance): void {
  const me = inst.members.find((m) => m.node === ctx.node.name)!;
  let state = me.initialState ?? 'BACKUP';
  if ((inst.preempt === false || inst.preemptDelay) && state === 'MASTER') {
    const what = inst.preempt === false ? 'nopreempt' : 'preempt_delay';
    ctx.warnings.push(`vrrp_instance ${inst.name}: keepalived ignores ${what} with state MASTER; written as state BACKUP`);
    state = 'BACKUP';
  }
  const group = (ctx.site.spec.syncGroups ?? []).find((g) => g.instances.includes(inst.name));
  if (group && state === 'MASTER' && me.priority !== 255) {
    ctx.warnings.push(`vrrp_instance ${inst.name}: keepalived starts the members of sync group ${group.name} as BACKUP; written as state BACKUP`);
    state = 'BACKUP';
  }
  w.block(`vrrp_instance ${inst.name}`, () => {
    w.line(`state ${state}`);
    w.line(`interface ${ifaceOf(inst, ctx)}`);
    w.line(`virtual_router_id ${inst.vrid}`);
    w.line(`priority ${me.priority}`);
    w.opt('advert_int', secs(inst.advertInterval));
    const family = instanceFamily(inst);
    // RFC 3768 is IPv4 only: an IPv6 instance says version 3 even where the spec leaves it to the family.
    w.opt('version', inst.version ?? (family === 6 ? 3 : undefined));
    if (inst.family === 6) w.line('native_ipv6');
    if (inst.preempt === false) w.line('nopreempt');
    w.opt('preempt_delay', secs(inst.preemptDelay));
    if (inst.auth) w.block('authentication', () => w.line(`auth_type ${inst.auth!.type}`).line(`auth_pass ${word(inst.auth!.password)}`));
    if (inst.vips.length) w.block('virtual_ipaddress', () => inst.vips.forEach((v) => w.line(vipLine(v))));
    if (inst.excludedVips?.length) w.block('virtual_ipaddress_excluded', () => inst.excludedVips!.forEach((v) => w.line(vipLine(v))));
    if (inst.unicast) {
      // Validation made sure every member has an address of the instance's family.
      w.line(`unicast_src_ip ${me.sourceAddress ?? nodeAddress(ctx.node, family)}`);
      const peers = inst.members.filter((m) => m.node !== ctx.node.name).map((m) => m.sourceAddress ?? nodeAddress(ctx.nodes.get(m.node)!, family)!);
      w.block('unicast_peer', () => [...peers, ...(inst.unicastPeers ?? [])].forEach((p) => w.line(p)));
    } else if (me.sourceAddress) w.line(`mcast_src_ip ${me.sourceAddress}`);
    if (inst.trackInterfaces?.length)
      w.block('track_interface', () =>
        inst.trackInterfaces!.forEach((t) => w.line(t.weight !== undefined ? `${t.interface} weight ${t.weight}` : t.interface)),
      );
    if (inst.trackScripts?.length)
      w.block('track_script', () => inst.trackScripts!.forEach((t) => w.line(t.weight !== undefined ? `${t.script} weight ${t.weight}` : t.script)));
    renderTrackBfd(w, ctx, inst);
    notify(w, inst.notify);
    const g = inst.garp;
    if (g) {
      w.opt('garp_master_delay', secs(g.masterDelay)).opt('garp_master_repeat', g.masterRepeat);
      w.opt('garp_master_refresh', secs(g.masterRefresh)).opt('garp_master_refresh_repeat', g.masterRefreshRepeat);
    }
    if (inst.dontTrackPrimary) w.line('dont_track_primary');
  });
}

export function renderSyncGroups(w: ConfWriter, ctx: RenderContext, instances: VrrpInstance[]): void {
  const mine = new Set(instances.map((i) => i.name));
  for (const g of ctx.site.spec.syncGroups ?? []) {
    const here = g.instances.filter((i) => mine.has(i));
    if (here.length < 2) {
      if (here.length) ctx.warnings.push(`vrrp_sync_group ${g.name}: this director is in only ${here.join(', ')}; the group is left out`);
      continue;
    }
    w.block(`vrrp_sync_group ${g.name}`, () => {
      w.block('group', () => here.forEach((i) => w.line(i)));
      notify(w, g.notify);
    });
  }
}
