/**
 * Defaults applied by the compiler where a spec leaves a field out. They follow keepalived's
 * own defaults unless noted, so an imported keepalived.conf behaves the same.
 */
export const DEFAULTS = {
  nodeInterface: 'eth0',
  vrrpVersion: 2 as 2 | 3,
  advertIntervalMs: 1000, // advert_int 1
  preempt: true,
  garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1, intervalMs: 0 },
  script: { intervalMs: 1000, weight: 0, rise: 1, fall: 1 }, // vrrp_script defaults
  service: { protocol: 'tcp' as const, scheduler: 'wlc' as const, forwarding: 'dr' as const, quorum: 1, hysteresis: 0 },
  realServerWeight: 1,
  persistenceNetmask: '255.255.255.255',
  check: {
    intervalMs: 60_000, // delay_loop 60
    timeoutMs: 5_000, // connect_timeout 5
    retries: 1, // retry 1
    retryDelayMs: 1_000, // delay_before_retry 1
    warmupMs: 0,
    httpPath: '/',
    httpExpectStatus: ['200-299'] as (number | string)[],
    dnsQueryType: 'SOA' as const, // DNS_CHECK type default
    dnsName: '.',
  },
  syncId: 0,
} as const;
