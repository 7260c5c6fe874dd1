import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Site } from '#shared/site/site.ts';
import { SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { decideApply, type CurrentSite, type Proposed } from './decide.ts';
import { DomainError } from './errors.ts';

const seeds = (): Site => Site.parse(parse(SEEDS_YAML));
const hashes = (h: Record<string, string>) => new Map(Object.entries(h));
const fresh: CurrentSite = { revision: 0, spec: null, specHash: null, configHashes: new Map() };
const proposed: Proposed = { specHash: 's1', configHashes: hashes({ dr1: 'a', dr2: 'b', rs1: 'c', rs2: 'd' }) };
const input = (over: Partial<Parameters<typeof decideApply>[0]> = {}) => ({ orgId: 'o', site: seeds(), author: 'me', ...over });
const at1: CurrentSite = { revision: 1, spec: seeds(), specHash: 's1', configHashes: proposed.configHashes };

describe('decideApply', () => {
  it('writes revision 1 of a new site, publishing every node', () => {
    expect(decideApply(input(), fresh, proposed)).toMatchObject({
      action: 'write',
      result: { revision: 1, previousRevision: 0, publishedNodes: ['dr1', 'dr2', 'rs1', 'rs2'] },
    });
  });

  it('publishes only nodes whose config hash changed', () => {
    const next = { specHash: 's2', configHashes: hashes({ dr1: 'a2', dr2: 'b', rs1: 'c', rs2: 'd' }) };
    expect(decideApply(input(), at1, next)).toMatchObject({ action: 'write', result: { revision: 2, publishedNodes: ['dr1'] } });
  });

  it('answers an identical spec as unchanged without writing', () => {
    expect(decideApply(input(), at1, proposed)).toMatchObject({ action: 'answer', result: { revision: 1, unchanged: true, publishedNodes: [] } });
  });

  it('answers a dry run at the current revision, even a mass delete', () => {
    const site = seeds();
    site.spec.services![0].realServers = site.spec.services![0].realServers.slice(0, 1);
    const d = decideApply(input({ site, dryRun: true }), at1, { ...proposed, specHash: 's2' });
    expect(d).toMatchObject({ action: 'answer', result: { revision: 1, dryRun: true, diff: { massDelete: { exceeded: true } } } });
  });

  it('refuses a stale If-Match, a mass delete without force and a name other than the addressed one', () => {
    const refusal = (d: ReturnType<typeof decideApply>) => (d.action === 'refuse' ? d.error : null);
    expect(refusal(decideApply(input({ ifMatch: 0 }), at1, proposed))).toMatchObject({ code: 'stale_revision', details: { currentRevision: 1 } });
    const site = seeds();
    site.spec.services![0].realServers = site.spec.services![0].realServers.slice(0, 1);
    const massDelete = refusal(decideApply(input({ site }), at1, { ...proposed, specHash: 's2' }));
    expect(massDelete).toBeInstanceOf(DomainError);
    expect(massDelete).toMatchObject({ code: 'mass_delete', details: { massDelete: { realServers: { removed: 2, total: 3 } } } });
    expect(decideApply(input({ site, force: true }), at1, { ...proposed, specHash: 's2' }).action).toBe('write');
    expect(refusal(decideApply(input({ siteName: 'other' }), fresh, proposed))).toMatchObject({ code: 'invalid', issues: [{ path: 'metadata.name' }] });
  });
});
