import { describe, expect, it } from 'vitest';
import { formatIssues, formatPath, uniqueNames, type SpecIssue } from './issues.ts';

describe('issues', () => {
  it('formats zod paths the way the API and the CLI report them', () => {
    expect(formatPath(['spec', 'vrrp', 0, 'vrid'])).toBe('spec.vrrp[0].vrid');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('');
  });

  it('prints one `path: message` line per issue, (root) for the document', () => {
    expect(
      formatIssues([
        { path: 'spec.nodes', message: 'Too small' },
        { path: '', message: 'line 3: Map keys must be unique', line: 3 },
      ]),
    ).toBe('spec.nodes: Too small\n(root): line 3: Map keys must be unique');
  });

  it('uniqueNames reports every repeat against the first', () => {
    const out: SpecIssue[] = [];
    uniqueNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 'a' }], 'spec.x', 'thing', out);
    uniqueNames(undefined, 'spec.y', 'thing', out);
    expect(out).toEqual([
      { path: 'spec.x[2].name', message: 'duplicate thing name "a" (also at spec.x[0])' },
      { path: 'spec.x[3].name', message: 'duplicate thing name "a" (also at spec.x[0])' },
    ]);
  });
});
