import { describe, expect, it } from 'vitest';
import { byName } from './by-name.ts';

/** What byName must always answer: the map the list makes now. */
const fresh = <T extends { name: string }>(items: readonly T[]) => [...new Map(items.map((i) => [i.name, i]))];

describe('byName', () => {
  it('answers the map the list makes, the same object while the list is unchanged', () => {
    const nodes = [{ name: 'dr1' }, { name: 'rs1' }, { name: 'rs2' }];
    const map = byName(nodes);
    expect([...map]).toEqual(fresh(nodes));
    expect(byName(nodes)).toBe(map);
    // Another list with equal items is another list.
    expect(byName([...nodes])).not.toBe(map);
  });

  it('follows a list edited after its map was made: an item added, removed, renamed, replaced or moved', () => {
    const nodes = [{ name: 'dr1' }, { name: 'rs1' }, { name: 'rs2' }];
    const edits: ((l: { name: string }[]) => void)[] = [
      (l) => l.push({ name: 'rs3' }),
      (l) => l.splice(1, 1),
      (l) => (l[0].name = 'dr9'),
      (l) => (l[1] = { name: 'rs7' }),
      (l) => l.reverse(),
    ];
    for (const edit of edits) {
      byName(nodes);
      edit(nodes);
      expect([...byName(nodes)]).toEqual(fresh(nodes));
    }
  });

  it('lets the last of a name win, as a map built from the list does', () => {
    const first = { name: 'rs1', n: 1 };
    const last = { name: 'rs1', n: 2 };
    const nodes = [first, { name: 'dr1', n: 3 }, last];
    expect([...byName(nodes)]).toEqual(fresh(nodes));
    expect(byName(nodes).get('rs1')).toBe(last);
  });
});
