/**
 * The words a site spec and a compiled node config share, as plain lists: IPVS scheduler names and
 * flags, forwarding methods, health-check types. Kept apart from the spec's schemas
 * (./service.ts, ./health-check.ts) so that what needs only the words — the node config's
 * schema, which every agent loads, and the in-memory IPVS table — does not build the spec's
 * schemas: in the agent's bundle that was 13–15 ms of every start.
 */

/** The 14 IPVS schedulers ipvsadm knows. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'] as const;

/** ipvsadm -b flags: sh-fallback/sh-port for sh, mh-fallback/mh-port for mh. */
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;

export const FORWARDING = ['dr', 'nat', 'tun'] as const;

/** keepalived's checkers: TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK. */
export const CHECK_TYPES = ['tcp', 'http', 'https', 'smtp', 'dns', 'misc', 'udp', 'ping'] as const;
export type CheckType = (typeof CHECK_TYPES)[number];
