import { describe, expect, it } from 'vitest';
import { compileNode } from '../compiler/compile.ts';
import { baseDoc } from '../site/site.test-support.ts';
import { validateSite } from '../site/validate.ts';
import { expectSameRefusal } from '../util/same-refusal.test-support.ts';
import { checkClaimsBody, checkClaimsInSteps, DesiredClaims } from './desired-claims.ts';

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

const EDITS: [string, (c: any) => void][] = [
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
];

describe('checkClaimsInSteps: DesiredClaims a service at a time', () => {
  it('answers the claims DesiredClaims answers, awaiting between() between its steps', async () => {
    let turns = 0;
    // stepMs 0: every service is a step of its own.
    const r = await checkClaimsInSteps(claims, async () => void turns++, 0);
    expect(r).toEqual({ success: true, data: DesiredClaims.parse(claims) });
    expect(r.success && r.data).toEqual(claims);
    expect(turns).toBe(40);
  });

  it.each(EDITS)('refuses %s as DesiredClaims does, naming the same place', async (_name, edit) => {
    const bad = edited(edit);
    expectSameRefusal(DesiredClaims.safeParse(bad), await checkClaimsInSteps(bad, async () => {}, 0));
  });
});

describe("checkClaimsInSteps with known services: those the schema took before (the accepted document's)", () => {
  const none = async () => {};

  it("answers what DesiredClaims answers when every service is known, a copy of the claims' own", async () => {
    const r = await checkClaimsInSteps(structuredClone(claims), none, Infinity, claims.config.services);
    expect(r).toEqual({ success: true, data: DesiredClaims.parse(claims) });
  });

  it.each(EDITS)('refuses %s as DesiredClaims does, naming the same place, with every service of the unedited claims known', async (_name, edit) => {
    const bad = edited(edit);
    expectSameRefusal(DesiredClaims.safeParse(bad), await checkClaimsInSteps(bad, none, Infinity, claims.config.services));
  });

  it('passes over a service equal to the known one at its place, and checks one known only at another place', async () => {
    // (Not a real server's edit: the services here share one list of real servers.)
    const outOfSchema = (c: any) => (c.config.services[2].extra = 1);
    const bad = edited(outOfSchema);
    // Checked, with the unedited services known: refused at services[2].
    const checked = await checkClaimsInSteps(bad, none, Infinity, claims.config.services);
    expect(!checked.success && checked.error.issues[0].path.slice(0, 3)).toEqual(['config', 'services', 2]);
    // Known as it is (no schema took it: only to show the check is passed over), it is taken unchecked.
    const known = edited(outOfSchema).config.services;
    expect((await checkClaimsInSteps(bad, none, Infinity, known)).success).toBe(true);
    // Known at another place only: checked, and refused.
    const moved = [known[0], known[1], known[3], known[2], ...known.slice(4)];
    expect((await checkClaimsInSteps(bad, none, Infinity, moved)).success).toBe(false);
  });

  it('answers an equal service with the known object itself, and a changed one with its checked copy', async () => {
    const next = structuredClone(claims);
    next.config.services[1].port += 1;
    const r = await checkClaimsInSteps(next, none, Infinity, claims.config.services);
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.data).toEqual(DesiredClaims.parse(next));
    r.data.config.services.forEach((s, i) => (i === 1 ? expect(s).not.toBe(claims.config.services[i]) : expect(s).toBe(claims.config.services[i])));
  });

  it("answers a changed service's real servers equal to the known ones at their place with the known objects, and checks the others", async () => {
    const many = {
      ...claims,
      config: {
        ...claims.config,
        services: claims.config.services.map((s) => ({ ...s, realServers: [0, 1, 2].map((j) => ({ ...s.realServers[0], weight: j + 1 })) })),
      },
    };
    const next = structuredClone(many);
    next.config.services[4].realServers[1].weight = 9;
    const r = await checkClaimsInSteps(next, none, Infinity, many.config.services);
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.data).toEqual(DesiredClaims.parse(next));
    const was = many.config.services[4].realServers;
    const [a, b, c] = r.data.config.services[4].realServers;
    expect([a === was[0], b === was[1] || b === next.config.services[4].realServers[1], c === was[2]]).toEqual([true, false, true]);
    // A changed real server is checked: out of the schema, refused at its place.
    next.config.services[4].realServers[1].weight = -1;
    const bad = await checkClaimsInSteps(next, none, Infinity, many.config.services);
    expect(!bad.success && bad.error.issues[0].path).toEqual(['config', 'services', 4, 'realServers', 1, 'weight']);
  });
});

describe('checkClaimsBody: the claims without trust, each service object checked once', () => {
  const Body = DesiredClaims.omit({ trust: true });

  it('takes what DesiredClaims takes without `trust`, and remembers each service object it checked', () => {
    const checked = new WeakSet<object>();
    expect(checkClaimsBody(claims, checked)).toEqual({ success: true });
    expect(claims.config.services.every((s) => checked.has(s))).toBe(true);
    expect(checkClaimsBody({ ...claims, trust: { generation: 1, keys: [], chain: [] } }, checked).success).toBe(false);
  });

  it.each(EDITS)('refuses %s as DesiredClaims does, naming the same place, and remembers no service it refused', (_name, edit) => {
    const bad = edited(edit);
    const checked = new WeakSet<object>();
    const body = checkClaimsBody(bad, checked);
    expectSameRefusal(Body.safeParse(bad), body);
    if (body.success) return;
    const services = (bad as { config?: { services?: unknown } }).config?.services;
    const refused = Array.isArray(services) ? services[body.error.issues[0].path[2] as number] : undefined;
    if (refused && typeof refused === 'object') expect(checked.has(refused)).toBe(false);
  });

  it('passes over a service object it checked before, but checks every other one, equal or not', () => {
    const checked = new WeakSet<object>();
    expect(checkClaimsBody(claims, checked).success).toBe(true);
    // A new object in place of one checked: checked, and refused.
    const fresh = edited((c) => (c.config.services[5].realServers[0].weight = -1));
    const mixed = { ...claims, config: { ...claims.config, services: claims.config.services.map((s, i) => (i === 5 ? fresh.config.services[5] : s)) } };
    const r = checkClaimsBody(mixed, checked);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0].path.slice(0, 3)).toEqual(['config', 'services', 5]);
    // An object once checked is taken as it is, not checked again: sound because the compiler's
    // output is never changed in place (CompileMemo). Changed here, to show the check is passed over.
    const once = edited(() => {});
    expect(checkClaimsBody(once, checked).success).toBe(true);
    once.config.services[2].realServers[0].weight = -1;
    expect(checkClaimsBody(once, checked).success).toBe(true);
    expect(checkClaimsBody(once, new WeakSet()).success).toBe(false);
  });
});
