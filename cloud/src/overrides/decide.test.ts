import { describe, expect, it } from 'vitest';
import { baseDoc } from '#shared/site/site.test-support.ts';
import { validateSite } from '#shared/site/validate.ts';
import { decideCreate } from './decide.ts';

/** The base site with an IPv6 service beside it (dual-stack directors and VIP instance). */
function dualStackSite() {
  const d = baseDoc();
  d.spec.nodes[0].address6 = '2001:db8::1';
  d.spec.nodes[1].address6 = '2001:db8::2';
  d.spec.vrrp.push({
    name: 'VI_6',
    vrid: 52,
    version: 3,
    vips: ['2001:db8::100/128'],
    members: [
      { node: 'dr1', priority: 100 },
      { node: 'dr2', priority: 90 },
    ],
  });
  d.spec.services.push({
    name: 'web6',
    vip: '2001:db8::100',
    port: 80,
    forwarding: 'dr',
    realServers: [{ address: '2001:db8::21' }, { address: '2001:db8::22' }],
  });
  const r = validateSite(d);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.site;
}

describe('decideCreate: a drain target by address', () => {
  const ctx = { id: 'o1', author: 'alice', now: Date.UTC(2026, 0, 1) };
  it('matches an IPv6 real server however the operator spelled it, and stores the spec’s spelling', () => {
    const site = dualStackSite();
    for (const spelled of ['2001:db8::21', '2001:DB8::0:21', '2001:0db8:0000::21']) {
      const r = decideCreate({ kind: 'drain-realserver', realServer: spelled, for: '30m', reason: 'patching' }, site, [], ctx);
      expect(r.ok && r.override).toMatchObject({ kind: 'drain-realserver', address: '2001:db8::21', service: null });
    }
  });

  it('still refuses an address no service has, naming the field', () => {
    const r = decideCreate({ kind: 'drain-realserver', realServer: '2001:db8::99', for: '30m', reason: 'patching' }, dualStackSite(), [], ctx);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/^realServer: "2001:db8::99" is not a real server of any service/);
  });
});
