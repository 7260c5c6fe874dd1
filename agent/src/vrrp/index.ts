export { startVrrp, type StartVrrpOptions, type VrrpRunner } from './driver.ts';
export { createLinuxVrrpHost, type LinuxVrrpHostOptions } from '../dataplane/vrrp-host-linux.ts';
export { createDryRunVrrpHost } from '../dataplane/vrrp-host-dry-run.ts';
export type { VrrpHost, VrrpChannel, VrrpChannelOptions, SyncDaemonRole } from '../dataplane/vrrp-host.ts';
export { VrrpHostError } from '../dataplane/vrrp-host.ts';
export { encodeAdvert, decodePacket, checkAdvert, encodeIpPacket, VrrpCodecError, type DropCounters, type DropReason } from './codec.ts';
export { step, initialState, nextDeadline } from './state-machine.ts';
export type { InstanceParams, InstanceState, Event as VrrpEvent, Action as VrrpAction } from './types.ts';
