/** What one director's keepalived.conf says, before several files are merged into a site. */
import type { Token } from './lexer.ts';
import type { ConnectionSync, SyncGroup, VrrpInstance, VrrpScript } from '../site/vrrp.ts';
import type { Service } from '../site/service.ts';

/** A vrrp_instance as one director sees it: the shared part plus this director's own values. */
export interface FileInstance {
  at: Token;
  /** Everything but members / unicast peers, which depend on the other files. */
  shared: Omit<VrrpInstance, 'members' | 'unicastPeers' | 'unicast' | 'vips'> & { vips: VrrpInstance['vips'] };
  priority?: number;
  state?: 'MASTER' | 'BACKUP';
  interface?: string;
  unicastSrcIp?: string;
  /** unicast_peer addresses; null when the instance is multicast. */
  unicastPeers: string[] | null;
  /** Where each VIP address was first listed (keepalived adds a repeated one once). */
  vipAt: Map<string, Token>;
  /** The track_script entries, in the order of shared.trackScripts (checked against the file's scripts). */
  trackScriptAt: Token[];
  /** Set when the instance lists no VIP; strict: its own strict_mode (the verdict needs the whole file). */
  noVip?: { strict: boolean };
}

interface FileService {
  at: Token;
  service: Service;
}

export interface FileImport {
  file: string;
  routerId?: Token;
  /** global_defs notification settings, kept as site annotations. */
  annotations: Record<string, string>;
  /** global_defs vrrp_version: the default for instances without `version`. */
  vrrpVersion?: 2 | 3;
  /** global_defs vrrp_garp_interval: applies to every instance of the file. */
  garpInterval?: string;
  instances: FileInstance[];
  scripts: { at: Token; script: VrrpScript }[];
  /** memberAt: where each name of group { } was written, in the order of group.instances. */
  syncGroups: { at: Token; group: SyncGroup; memberAt: Token[] }[];
  services: FileService[];
  connectionSync?: { at: Token; sync: ConnectionSync };
  /** bfd_instance blocks, as written (the merge decides which are `between` two directors). */
  bfd: { at: Token; name: string; neighbor?: string; source?: string; minRx?: string; minTx?: string; multiplier?: number }[];
}

export function emptyFileImport(file: string): FileImport {
  return { file, annotations: {}, instances: [], scripts: [], syncGroups: [], services: [], bfd: [] };
}
