import { describe, expect, it } from 'vitest';
import { compileNode } from '../compiler/compile.ts';
import { baseDoc } from '../site/site.test-support.ts';
import { validateSite } from '../site/validate.ts';
import { expectSameRefusal } from '../util/same-refusal.test-support.ts';
import { checkServiceInParts } from './check-service.ts';
import { ResolvedService } from './node-config.ts';

const site = (() => {
  const r = validateSite(baseDoc());
  if (!r.ok) throw new Error('base site is invalid');
  return r.site;
})();
const base = compileNode(site, 'dr1').services[0];
/** A service of 6 real servers, as the compiler writes them. */
const service: ResolvedService = { ...base, realServers: Array.from({ length: 6 }, (_, j) => ({ ...base.realServers[0], address: `10.0.0.${j + 10}` })) };
const edited = (edit: (s: any) => void) => {
  const s = structuredClone(service);
  edit(s);
  return s;
};
const none = () => undefined;

const EDITS: [string, (s: any) => void][] = [
  ['an unknown key in the service', (s) => (s.extra = 1)],
  ['a VIP that is not an address', (s) => (s.vip = 'ten.nine.nine.one')],
  ['real servers not a list', (s) => (s.realServers = {})],
  ['a real server that is not an object', (s) => (s.realServers[2] = 'rs')],
  ["a real server's weight below 0", (s) => (s.realServers[4].weight = -1)],
  ['an unknown key in a real server', (s) => (s.realServers[5].extra = 1)],
  ["a real server's check of no known type", (s) => (s.realServers[1].healthCheck = { ...s.realServers[1].healthCheck, type: 'smtp2' })],
];

describe('checkServiceInParts: ResolvedService a real server at a time', () => {
  it('answers what ResolvedService answers for a valid service', () => {
    expect(checkServiceInParts(structuredClone(service), none)).toEqual({ success: true, data: ResolvedService.parse(service) });
  });

  it.each(EDITS)('refuses %s as ResolvedService does, naming the same place', (_name, edit) => {
    const bad = edited(edit);
    expectSameRefusal(ResolvedService.safeParse(bad), checkServiceInParts(bad, none));
  });

  it('takes the object known for a real server in its place, unchecked, and checks every other one', () => {
    const bad = edited((s) => (s.realServers[3].weight = -1));
    const stand = bad.realServers[3];
    const asked: number[] = [];
    // Known (no schema took it: only to show the check is passed over): taken as it is.
    const r = checkServiceInParts(bad, (_rs, j) => (asked.push(j), j === 3 ? stand : undefined));
    expect(asked).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.data.realServers[3]).toBe(stand);
    expect(r.data.realServers[2]).not.toBe(bad.realServers[2]);
    expect(r.data).toEqual(bad);
    // Not known: checked, and refused.
    expect(checkServiceInParts(bad, (_rs, j) => (j === 2 ? bad.realServers[2] : undefined)).success).toBe(false);
  });
});
