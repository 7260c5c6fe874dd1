/**
 * vrrp_script / vrrp_sync_group → spec fragments, and helpers the instance mapper shares
 * (keepalived.conf(5), VRRP section).
 */
import { Name } from '../site/names.ts';
import type { VrrpInstance, VrrpScript, SyncGroup } from '../site/vrrp.ts';
import type { FileImport } from './model.ts';
import type { Stmt } from './parser.ts';
import { entries, int, rest, seconds, needsBlock, one } from './values.ts';
import { error, walk, warn, type Cx, type Handler } from './walk.ts';

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
  walk(st.block, st, g, cx, {
    what: `vrrp_sync_group ${g.name}`,
    handlers: {
      group: (x, t, c) => {
        for (const e of entries(x, c)) t.instances!.push(e.keyword.text, ...e.args.map((a) => a.text));
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
  if (g.instances!.length < 2) return void error(cx, st.keyword, `vrrp_sync_group ${g.name} needs at least two instances in group { }`);
  f.syncGroups.push({ at: st.keyword, group: strip(g) as SyncGroup });
}

/** Drops keys whose value is undefined (a failed value was already reported). */
export function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
