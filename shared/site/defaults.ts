import type { CheckType } from './ipvs-words.ts';

/**
 * Defaults applied by the compiler where a spec leaves a field out. They follow keepalived's
 * own defaults (keepalived.conf(5) and its parser) unless marked "lvsfleet", so an imported
 * keepalived.conf behaves the same.
 */
export const DEFAULTS = {
  /** lvsfleet: keepalived has no per-node default; `interface` is mandatory there. */
  nodeInterface: 'eth0',
  /** keepalived `version` / global `vrrp_version`: 2. */
  vrrpVersion: 2 as 2 | 3,
  /** keepalived `advert_int`: 1 second (both versions). */
  advertIntervalMs: 1000,
  /** keepalived: preempt unless `nopreempt`. */
  preempt: true,
  /** keepalived `preempt_delay`: 0; range 0–1000 s (TIMER_MAX_SEC). */
  preemptDelayMs: 0,
  preemptDelayMaxMs: 1_000_000,
  garp: {
    masterDelayMs: 5000, // vrrp_garp_master_delay / garp_master_delay: 5 s (VRRP_GARP_DELAY)
    masterRepeat: 5, // garp_master_repeat: 5 (VRRP_GARP_REP)
    masterRefreshMs: 0, // garp_master_refresh: 0 = no refresh (VRRP_GARP_REFRESH)
    masterRefreshRepeat: 1, // garp_master_refresh_repeat: 1 (VRRP_GARP_REFRESH_REP)
    intervalMs: 0, // garp_interval: 0
  },
  /** vrrp_script: interval 1 s, timeout = interval, weight 0, rise 1, fall 1. */
  script: { intervalMs: 1000, weight: 0, rise: 1, fall: 1 },
  /**
   * virtual_server: lb_algo wlc (IPVS_DEF_SCHED), quorum 1, hysteresis 0, protocol TCP.
   * forwarding is lvsfleet's DR: keepalived falls back to NAT with a warning when lb_kind is
   * missing; our users (the seeds) run DR, and the importer always writes lb_kind explicitly.
   */
  service: { protocol: 'tcp' as const, scheduler: 'wlc' as const, forwarding: 'dr' as const, quorum: 1, hysteresis: 0 },
  /** real_server `weight`: 1. */
  realServerWeight: 1,
  /** persistence_granularity: 255.255.255.255 (one client address). */
  persistenceNetmask: '255.255.255.255',
  /** persistence_timeout with no value: 360 s (IPVS_SVC_PERSISTENT_TIMEOUT). */
  persistenceTimeoutS: 360,
  check: {
    intervalMs: 60_000, // delay_loop: 60 s (KEEPALIVED_DEFAULT_DELAY)
    timeoutMs: 5_000, // connect_timeout: 5 s
    retries: 1, // retry (nb_get_retry): 1, except DNS_CHECK 3 and MISC_CHECK 0 — see checkDefaults()
    retryDelayMs: 1_000, // delay_before_retry: 1 s, except HTTP_GET/SSL_GET 3 s and DNS_CHECK delay_loop
    httpPath: '/',
    httpExpectStatus: ['200-299'] as (number | string)[], // status_code: 200-299
    dnsQueryType: 'SOA' as const, // DNS_CHECK type: SOA
    dnsName: '.', // DNS_CHECK name: .
  },
  /** bfd_instance: min_rx 10 ms, min_tx 10 ms, multiplier 5 (BFD_MINRX_DEFAULT, BFD_MINTX_DEFAULT, BFD_MULTIPLIER_DEFAULT). */
  bfd: { minRxMs: 10, minTxMs: 10, multiplier: 5 },
  /**
   * lvsfleet: the session a pair of directors gets without asking (spec.bfdDefault). Slower than
   * keepalived's bfd_instance default so a busy host's timer lateness does not read as a dead
   * peer: 50 ms × 5 = 250 ms detection, still a tenth of a 1 s advert's 3.6 s.
   */
  pairBfd: { minRxMs: 50, minTxMs: 50, multiplier: 5 },
  /** lvs_sync_daemon `id`: 0. */
  syncId: 0,
} as const;

/**
 * The interface a VRRP member runs on: the member's own, else the instance's, else its node's,
 * else the lvsfleet default (keepalived has only the instance's `interface`).
 */
export function memberInterface(inst: { interface?: string }, member: { interface?: string } | undefined, node: { interface?: string } | undefined): string {
  return member?.interface ?? inst.interface ?? node?.interface ?? DEFAULTS.nodeInterface;
}

/**
 * keepalived's per-checker timing defaults (check_api.c, check_http.c, check_dns.c, check_misc.c):
 * retry 1 (DNS_CHECK 3, MISC_CHECK 0); delay_before_retry 1 s (HTTP_GET/SSL_GET 3 s, DNS_CHECK
 * delay_loop); warmup: a random start delay of at most delay_loop.
 */
export function checkDefaults(type: CheckType, intervalMs: number): { retries: number; retryDelayMs: number; warmupMs: number } {
  const retries = type === 'dns' ? 3 : type === 'misc' ? 0 : DEFAULTS.check.retries;
  const retryDelayMs = type === 'http' || type === 'https' ? 3_000 : type === 'dns' ? intervalMs : DEFAULTS.check.retryDelayMs;
  return { retries, retryDelayMs, warmupMs: intervalMs };
}
