import { describe, expect, it } from 'vitest';
import { baseSite as site } from '../site/site.test-support.ts';
import { compileNode } from './compile.ts';

describe('compileNode: BFD', () => {
  it('gives a two-director instance a default pair session (lvsfleet pair timers), used as its peer session', () => {
    const dr1 = compileNode(site(), 'dr1');
    const dr2 = compileNode(site(), 'dr2');
    expect(dr1.bfd).toEqual([{ name: 'pair-dr1-dr2', local: '10.99.0.1', peer: '10.99.0.2', peerNode: 'dr2', minRxMs: 50, minTxMs: 50, multiplier: 5 }]);
    expect(dr2.bfd).toEqual([{ name: 'pair-dr1-dr2', local: '10.99.0.2', peer: '10.99.0.1', peerNode: 'dr1', minRxMs: 50, minTxMs: 50, multiplier: 5 }]);
    // Two instances on the same pair share one session: one session per pair of addresses.
    expect(dr1.vrrp.instances.map((i) => [i.peerBfd, i.trackBfd])).toEqual([
      ['pair-dr1-dr2', []],
      ['pair-dr1-dr2', []],
    ]);
  });

  it('bfdDefault: false turns the default off; so do three members or an extra unicast peer', () => {
    expect(
      compileNode(
        site((d) => (d.spec.bfdDefault = false)),
        'dr1',
      ).bfd,
    ).toEqual([]);
    const three = site((d) => {
      d.spec.nodes.push({ name: 'dr3', role: 'director', address: '10.99.0.3' });
      for (const v of d.spec.vrrp) v.members.push({ node: 'dr3', priority: 50 });
    });
    expect(compileNode(three, 'dr1').bfd).toEqual([]);
    const extra = compileNode(
      site((d) => {
        d.spec.vrrp[0].unicast = true;
        d.spec.vrrp[0].unicastPeers = ['10.99.0.9'];
      }),
      'dr1',
    );
    // The session still runs (VI_2 is a plain pair), but VI_1 has two peers: no single peer to watch.
    expect(extra.bfd?.map((b) => b.name)).toEqual(['pair-dr1-dr2']);
    expect(extra.vrrp.instances.map((i) => i.peerBfd)).toEqual([null, 'pair-dr1-dr2']);
  });

  it('an explicit session between the pair replaces the default, with keepalived timer defaults', () => {
    const dr2 = compileNode(
      site((d) => (d.spec.bfd = [{ name: 'dr-pair', between: ['dr1', 'dr2'], minRx: '20ms' }])),
      'dr2',
    );
    expect(dr2.bfd).toEqual([{ name: 'dr-pair', local: '10.99.0.2', peer: '10.99.0.1', peerNode: 'dr1', minRxMs: 20, minTxMs: 10, multiplier: 5 }]);
    expect(dr2.vrrp.instances[0].peerBfd).toBe('dr-pair');
  });

  it('trackBfd keeps only sessions the node runs; no weight is 0 (Down → FAULT)', () => {
    const s = site((d) => {
      d.spec.bfd = [
        { name: 'gw1', node: 'dr1', peer: '10.99.0.254' },
        { name: 'gw2', node: 'dr2', peer: '10.99.0.254', multiplier: 3 },
      ];
      d.spec.vrrp[0].trackBfd = [{ name: 'gw1' }, { name: 'gw2', weight: -20 }];
    });
    expect(compileNode(s, 'dr1').vrrp.instances[0].trackBfd).toEqual([{ name: 'gw1', weight: 0 }]);
    expect(compileNode(s, 'dr2').vrrp.instances[0].trackBfd).toEqual([{ name: 'gw2', weight: -20 }]);
    expect(compileNode(s, 'dr2').bfd?.map((b) => [b.name, b.peerNode, b.multiplier])).toEqual([
      ['gw2', null, 3],
      ['pair-dr1-dr2', 'dr1', 5],
    ]);
    expect(compileNode(s, 'rs1').bfd).toEqual([]);
  });
});
