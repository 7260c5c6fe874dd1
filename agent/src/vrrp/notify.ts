import type { ResolvedInstance } from '#shared/config/node-config.ts';
import type { VrrpHost } from '../dataplane/vrrp-host.ts';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/**
 * keepalived's hooks for a state change of an instance or a sync group: the state's own script
 * (notify_master, notify_backup, notify_fault, notify_stop) without arguments, then the generic
 * `notify` script with `args` (INSTANCE|GROUP name STATE …).
 */
export function runStateHooks(host: Pick<VrrpHost, 'notify'>, hooks: ResolvedInstance['notify'], state: NotifyState, args: string[]): void {
  const own = { MASTER: hooks.master, BACKUP: hooks.backup, FAULT: hooks.fault, STOP: hooks.stop }[state];
  if (own) host.notify(own, []);
  if (hooks.any) host.notify(hooks.any, args);
}
