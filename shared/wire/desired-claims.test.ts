import { describe, expect, it } from 'vitest';
import { compileNode } from '../compiler/compile.ts';
import { baseDoc } from '../site/site.test-support.ts';
import { validateSite } from '../site/validate.ts';
import { checkClaimsInSteps, DesiredClaims } from './desired-claims.ts';

const site = (() => {
  const r = validateSite(baseDoc());
  if (!r.ok) throw new Error('base site is invalid');
  return r.site;
})();
const config = compileNode(site, 'dr1');
/** A director's claims with 40 services, as large directors have them. */
const claims = {
  nodeId: 't1.dr1',
  site: 't1',
  revision: 3,
  issuedAt: '2026-01-02T03:04:05.000Z',
  config: { ...config, services: Array.from({ length: 40 }, (_, i) => ({ ...config.services[0], name: `web${i + 1}` })) },
};
/** A deep copy with `edit` applied. */
const edited = (edit: (c: any) => void) => {
  const c = structuredClone(claims);
  edit(c);
  return c;
};

describe('checkClaimsInSteps: DesiredClaims a service at a time', () => {
  it('answers the claims DesiredClaims answers, awaiting between() between its steps', async () => {
    let turns = 0;
    // stepMs 0: every service is a step of its own.
    const r = await checkClaimsInSteps(claims, async () => void turns++, 0);
    expect(r).toEqual({ success: true, data: DesiredClaims.parse(claims) });
    expect(r.success && r.data).toEqual(claims);
    expect(turns).toBe(40);
  });

  it.each([
    ['an extra claim', (c: any) => (c.extra = true)],
    ['revision 0', (c: any) => (c.revision = 0)],
    ['a config of another kind', (c: any) => (c.config.kind = 'Site')],
    ['an unknown key in the config', (c: any) => (c.config.extra = 1)],
    ['no services', (c: any) => delete c.config.services],
    ['services not a list', (c: any) => (c.config.services = {})],
    ['a service that is not an object', (c: any) => (c.config.services[7] = 'web')],
    ['an unknown key in a service', (c: any) => (c.config.services[12].extra = 1)],
    ["a real server's weight below 0", (c: any) => (c.config.services[39].realServers[0].weight = -1)],
    ['a VIP that is not an address', (c: any) => (c.config.services[0].vip = 'ten.nine.nine.one')],
  ])('refuses %s as DesiredClaims does, naming the same place', async (_name, edit) => {
    const bad = edited(edit);
    const whole = DesiredClaims.safeParse(bad);
    const steps = await checkClaimsInSteps(bad, async () => {}, 0);
    expect(whole.success).toBe(false);
    expect(steps.success).toBe(false);
    if (whole.success || steps.success) return;
    expect(steps.error.issues[0].path).toEqual(whole.error.issues[0].path);
    expect(steps.error.issues[0].message).toBe(whole.error.issues[0].message);
  });
});
