import { describe, expect, it } from 'vitest';
import { validateSite } from '#shared/site/validate.ts';
import { bigSiteSpec } from '../../../bench/big-site.ts';
import { diffSites } from '../../sites/diff.ts';
import { describeResult } from './apply.ts';

describe('describeResult', () => {
  it('a 1,000-node apply names a few of the nodes it publishes to and counts the rest', () => {
    const v = validateSite(bigSiteSpec('big', 1000));
    if (!v.ok) throw new Error(JSON.stringify(v.issues[0]));
    const publishedNodes = v.site.spec.nodes.map((n) => n.name);
    const r = { site: 'big', revision: 1, previousRevision: 0, unchanged: false, dryRun: false, publishedNodes, diff: diffSites(null, v.site) };
    const [first] = describeResult(r).split('\n');
    expect(first).toBe('big: revision 1 stored (was 0); publishing to dr1, dr2, rs1, rs2, rs3, rs4, rs5, rs6 and 992 more');
    expect(describeResult({ ...r, revision: 0, dryRun: true }).split('\n')[0]).toBe(
      'big: would store revision 1 (current 0); would publish to dr1, dr2, rs1, rs2, rs3, rs4, rs5, rs6 and 992 more',
    );
  });
});
