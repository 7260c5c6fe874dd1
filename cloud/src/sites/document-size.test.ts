import { describe, expect, it } from 'vitest';
import type { Site } from '#shared/site/site.ts';
import { MAX_DOCUMENT_BYTES } from '#shared/wire/desired.ts';
import { oversizedConfigs } from './document-size.ts';

describe('oversizedConfigs', () => {
  const site = { spec: { nodes: [{ name: 'rs1' }, { name: 'dr1' }, { name: 'dr2' }] } } as unknown as Site;

  it('names each node over the limit in bytes, by its index in the spec, and measures none at or under a third of it', () => {
    // dr2 is 16 characters, 32 bytes.
    const bytes: Record<string, number> = { dr1: 31, dr2: 32 };
    const measured: string[] = [];
    const bytesOf = (n: string) => (measured.push(n), bytes[n]);
    const issues = oversizedConfigs(
      site,
      [
        ['rs1', 10],
        ['dr1', 31],
        ['dr2', 16],
      ],
      bytesOf,
      30,
    );
    expect(measured).toEqual(['dr1', 'dr2']);
    expect(issues.map((i) => i.path)).toEqual(['spec.nodes[1]', 'spec.nodes[2]']);
    expect(issues[1].message).toBe(
      `node dr2's compiled config is 32 bytes, over the 30 that fit in a document an agent takes (${MAX_DOCUMENT_BYTES} bytes): split its services over more directors or sites`,
    );
  });

  it('finds nothing when every config fits, even one measured', () => {
    expect(oversizedConfigs(site, [['dr1', 20]], () => 20, 30)).toEqual([]);
  });
});
