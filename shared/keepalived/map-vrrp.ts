/**
 * vrrp_script / vrrp_sync_group → spec fragments, and helpers the instance mapper shares
 * (keepalived.conf(5), VRRP section).
 */
import { Name } from '../site/names.ts';
import type { VrrpInstance, VrrpScript, SyncGroup } from '../site/vrrp.ts';
import type { FileImport } from './model.ts';
import type { Stmt } from './parser.ts';
import { entries, int, rest, seconds, needsBlock, one } from './values.ts';
import { error, lenient, walk, warn, type Cx, type Handler } from './walk.ts';

export type Notifiable = { notify?: VrrpInstance['notify'] };

/** notify_master / notify_backup / notify_fault / notify_stop / notify → `notify`. */
export function notifyHandlers<S extends Notifiable>(): Record<string, Handler<S>> {
  const set =
    (key: keyof NonNullable<VrrpInstance['notify']>): Handler<S> =>
    (st, s, cx) => {
      const v = rest(st, cx);
      if (v !== undefined) s.notify = { ...s.notify, [key]: v };
    };
  return { notify_master: set('master'), notify_backup: set('backup'), notify_fault: set('fault'), notify_stop: set('stop'), notify: set('any') };
}

/** Checks a keepalived name against the spec's Name rule. */
export function specName(tok: Stmt['keyword'], cx: Cx, what: string): string | undefined {
  if (Name.safeParse(tok.text).success) return tok.text;
  error(cx, tok, `${what} name "${tok.text}" is not a valid name here (letters, digits, "_", "." and "-")`);
  return undefined;
}

/** vrrp_script NAME { script … interval … } (keepalived.conf(5) "VRRP script(s)"). */
export function mapScript(st: Stmt, f: FileImport, cx: Cx): void {
  if (!needsBlock(st, cx)) return;
  if (st.args.length !== 1) return void error(cx, st.keyword, 'vrrp_script needs one name');
  const s: Partial<VrrpScript> = { name: specName(st.args[0], cx, 'vrrp_script') ?? st.args[0].text };
  walk(st.block, st, s, cx, {
    what: `vrrp_script ${s.name}`,
    handlers: {
      script: (x, t, c) => {
        t.script = rest(x, c);
      },
      interval: (x, t, c) => {
        t.interval = seconds(x, c);
      },
      timeout: (x, t, c) => {
        t.timeout = seconds(x, c);
      },
      weight: (x, t, c) => {
        if (x.args[1]?.text === 'reverse') warn(c, x.args[1], 'weight reverse cannot be expressed in a site spec; ignored');
        t.weight = int(x, c, -253, 253, x.args[0]?.text ?? one(x, c));
      },
      rise: (x, t, c) => {
        t.rise = int(x, c, 1, 100);
      },
      fall: (x, t, c) => {
        t.fall = int(x, c, 1, 100);
      },
      user: (x, t, c) => {
        t.user = x.args.map((a) => a.text).join(' ') || one(x, c);
      },
    },
    unsupported: ['init_fail'],
  });
  if (!s.script) return void error(cx, st.keyword, `vrrp_script ${s.name} has no script`);
  f.scripts.push({ at: st.keyword, script: strip(s) as VrrpScript });
}

/** vrrp_sync_group NAME { group { VI_1 VI_2 } notify_* }. */
export function mapSyncGroup(st: Stmt, f: FileImport, cx: Cx): void {
  if (!needsBlock(st, cx)) return;
  if (st.args.length !== 1) return void error(cx, st.keyword, 'vrrp_sync_group needs one name');
  const g: Partial<SyncGroup> & Notifiable = { name: specName(st.args[0], cx, 'vrrp_sync_group') ?? st.args[0].text, instances: [] };
  const memberAt: Stmt['keyword'][] = [];
  walk(st.block, st, g, cx, {
    what: `vrrp_sync_group ${g.name}`,
    handlers: {
      group: (x, t, c) => {
        for (const e of entries(x, c)) {
          t.instances!.push(e.keyword.text, ...e.args.map((a) => a.text));
          memberAt.push(e.keyword, ...e.args);
        }
      },
      ...notifyHandlers<typeof g>(),
    },
    unsupported: [
      'smtp_alert',
      'global_tracking',
      'sync_group_tracking_weight',
      'track_interface',
      'track_script',
      'track_file',
      'track_bfd',
      'notify_priority_changes',
    ],
  });
  f.syncGroups.push({ at: st.keyword, group: strip(g) as SyncGroup, memberAt });
}

/**
 * References inside one file, resolved the way keepalived resolves them when it starts:
 * a track_script naming no vrrp_script of the file is dropped ("track script … not found,
 * ignoring"); a sync group member that is no vrrp_instance of the file is dropped, a group
 * left with no member is removed, members start as BACKUP unless all are address owners, and
 * a group of one runs as that instance alone (its notify scripts move to the instance where
 * the instance has none of its own).
 */
export function resolveVrrpReferences(f: FileImport, cx: Cx): void {
  const scripts = new Set(f.scripts.map((s) => s.script.name));
  for (const inst of f.instances) {
    const refs = inst.shared.trackScripts;
    if (!refs) continue;
    const kept = refs.filter((r, i) => {
      if (scripts.has(r.script)) return true;
      const at = inst.trackScriptAt[i] ?? inst.at;
      lenient(cx, at, `vrrp_instance ${inst.shared.name}: track_script ${r.script} names no vrrp_script in this file; keepalived ignores it`);
      return false;
    });
    if (kept.length) inst.shared.trackScripts = kept;
    else delete inst.shared.trackScripts;
  }
  const byName = new Map(f.instances.map((i) => [i.shared.name, i]));
  const inGroup = new Set<string>();
  f.syncGroups = f.syncGroups.filter(({ at, group, memberAt }) => {
    const members = group.instances.filter((name, i) => {
      const tok = memberAt[i] ?? at;
      if (!byName.has(name)) {
        lenient(cx, tok, `vrrp_sync_group ${group.name}: vrrp_instance ${name} does not exist in this file; keepalived ignores it`);
        return false;
      }
      if (inGroup.has(name)) {
        lenient(cx, tok, `vrrp_sync_group ${group.name}: vrrp_instance ${name} is already in another sync group; keepalived ignores it here`);
        return false;
      }
      inGroup.add(name);
      return true;
    });
    // keepalived starts a sync group BACKUP unless every member is the address owner
    // (vrrp_sync.c): `state MASTER` of a member with a lower priority does not hold.
    if (members.length && !members.every((m) => byName.get(m)!.priority === 255))
      for (const m of members) {
        const fi = byName.get(m)!;
        if (fi.state !== 'MASTER') continue;
        lenient(
          cx,
          at,
          `vrrp_sync_group ${group.name}: keepalived starts its members as BACKUP unless all are address owners (priority 255); ${m} does not start as MASTER`,
        );
        delete fi.state;
      }
    if (members.length >= 2) {
      group.instances = members;
      return true;
    }
    if (members.length === 0) {
      lenient(cx, at, `vrrp_sync_group ${group.name} has no existing vrrp_instance; keepalived removes it`);
      return false;
    }
    const inst = byName.get(members[0])!.shared;
    const moved = Object.entries(group.notify ?? {}).filter(([k]) => inst.notify?.[k as keyof NonNullable<Notifiable['notify']>] === undefined);
    if (moved.length) inst.notify = { ...inst.notify, ...Object.fromEntries(moved) };
    lenient(
      cx,
      at,
      `vrrp_sync_group ${group.name} has only 1 instance (${members[0]}): keepalived runs it as that instance alone; imported without the group${moved.length ? `, its notify scripts (${moved.map(([k]) => k).join(', ')}) moved to ${members[0]}` : ''}`,
    );
    return false;
  });
}

/** Drops keys whose value is undefined (a failed value was already reported). */
export function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
