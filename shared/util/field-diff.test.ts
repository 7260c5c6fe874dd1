import { describe, expect, it } from 'vitest';
import { fieldChanges, formatFieldChange } from './field-diff.ts';

const lines = (a: unknown, b: unknown) => fieldChanges(a, b).map(formatFieldChange);

describe('fieldChanges', () => {
  it('names a changed leaf by its path; named list items by name, others by index', () => {
    const before = {
      services: [
        {
          name: 'web',
          scheduler: 'wlc',
          realServers: [
            { address: '10.0.0.1', weight: 1 },
            { address: '10.0.0.2', weight: 2 },
          ],
        },
      ],
    };
    const after = {
      services: [
        {
          name: 'web',
          scheduler: 'rr',
          realServers: [
            { address: '10.0.0.1', weight: 1 },
            { address: '10.0.0.2', weight: 5 },
          ],
        },
      ],
    };
    expect(lines(before, after)).toEqual(['services.web.scheduler: wlc → rr', 'services.web.realServers["10.0.0.2"].weight: 2 → 5']);
  });

  it('says what was added and removed, whole objects included', () => {
    expect(lines({ a: 1, list: [{ x: 1 }] }, { b: 'new', list: [{ x: 1 }, { x: 2 }] })).toEqual(['b: + new', 'list[1]: + {"x":2}', 'a: - 1']);
    expect(lines({ vrrp: [{ name: 'VI_1' }] }, { vrrp: [{ name: 'VI_1' }, { name: 'VI_2', vrid: 2 }] })).toEqual(['vrrp.VI_2: + {"name":"VI_2","vrid":2}']);
  });

  it("lists the changes in the new value's key order, whatever the order of the old one's keys (memory or jsonb)", () => {
    const after = { scheduler: 'rr', port: 80, realServers: [{ node: 'rs1', weight: 2 }] };
    const before1 = { scheduler: 'wlc', port: 81, realServers: [{ node: 'rs1', weight: 1 }] };
    const before2 = { port: 81, realServers: [{ weight: 1, node: 'rs1' }], scheduler: 'wlc' };
    expect(lines(before1, after)).toEqual(['scheduler: wlc → rr', 'port: 81 → 80', 'realServers.rs1.weight: 1 → 2']);
    expect(lines(before2, after)).toEqual(lines(before1, after));
  });

  it('shows a list of plain values whole, and nothing for equal values', () => {
    expect(lines({ vips: ['10.0.0.1'] }, { vips: ['10.0.0.1', '10.0.0.2'] })).toEqual(['vips: ["10.0.0.1"] → ["10.0.0.1","10.0.0.2"]']);
    expect(fieldChanges({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
  });

  it('never shows a password, changed, added or inside an added object', () => {
    const out = lines(
      { vrrp: [{ name: 'VI_1', auth: { type: 'PASS', password: 'old1' } }] },
      {
        vrrp: [
          { name: 'VI_1', auth: { type: 'PASS', password: 'new1' } },
          { name: 'VI_2', auth: { type: 'PASS', password: 'new2' } },
        ],
      },
    );
    expect(out).toEqual(['vrrp.VI_1.auth.password: ******** → ********', 'vrrp.VI_2: + {"name":"VI_2","auth":{"type":"PASS","password":"********"}}']);
    expect(out.join('\n')).not.toMatch(/old1|new1|new2/);
  });

  it('quotes keys that are not plain names', () => {
    expect(lines({ 'a b': 1 }, { 'a b': 2 })).toEqual(['["a b"]: 1 → 2']);
  });

  it('matches real servers and members by node and port, and says an insertion once', () => {
    const site = (rs: { node: string; port: number; weight: number }[]) => ({ services: [{ name: 'web', scheduler: 'wlc', realServers: rs }] });
    const before = site([
      { node: 'rs1', port: 80, weight: 2 },
      { node: 'rs2', port: 80, weight: 1 },
    ]);
    const after = site([
      { node: 'rs0', port: 80, weight: 1 },
      { node: 'rs1', port: 80, weight: 2 },
      { node: 'rs2', port: 80, weight: 5 },
    ]);
    expect(lines(before, after)).toEqual([
      'services.web.realServers.rs2:80.weight: 1 → 5',
      'services.web.realServers.rs0:80: + {"node":"rs0","port":80,"weight":1}',
    ]);
    expect(lines({ peers: [{ address: '10.0.0.2', priority: 90 }] }, { peers: [{ address: '10.0.0.2', priority: 80 }] })).toEqual([
      'peers["10.0.0.2"].priority: 90 → 80',
    ]);
  });

  it('falls back to positions when list items have no distinct key', () => {
    expect(lines({ l: [{ node: 'a' }, { node: 'a' }] }, { l: [{ node: 'a' }, { node: 'b' }] })).toEqual(['l[1].node: a → b']);
  });

  it('keys IPv6 real servers by their bracketed endpoint', () => {
    const a = { realServers: [{ address: '2001:db8::21', port: 80, weight: 1 }] };
    const b = { realServers: [{ address: '2001:db8::21', port: 80, weight: 5 }] };
    expect(lines(a, b)).toEqual(['realServers["[2001:db8::21]:80"].weight: 1 → 5']);
  });
});
