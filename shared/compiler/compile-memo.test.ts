import { describe, expect, it } from 'vitest';
import type { NodeConfig } from '../config/node-config.ts';
import { baseSite as site, type Doc } from '../site/site.test-support.ts';
import { compileSite } from './compile.ts';
import { CompileMemo } from './compile-memo.ts';

const services = (configs: Map<string, NodeConfig>, node: string) => configs.get(node)!.services;
const named = (configs: Map<string, NodeConfig>, node: string, name: string) => services(configs, node).find((s) => s.name === name)!;

describe('CompileMemo', () => {
  it("gives both directors of one compile the same objects for a service, each equal to a compile's without it", () => {
    const configs = compileSite(site());
    expect(named(configs, 'dr1', 'web')).toBe(named(configs, 'dr2', 'web'));
    expect(named(configs, 'dr1', 'mail')).toBe(named(configs, 'dr2', 'mail'));
    const memo = new CompileMemo();
    expect(compileSite(site(), memo)).toEqual(configs);
  });

  it("hands the next compile the last one's objects for an unchanged service, and resolves a changed one again", () => {
    const memo = new CompileMemo();
    const first = compileSite(site(), memo);
    const weight = site((d) => (d.spec.services[0].realServers[0].weight = 5));
    const second = compileSite(weight, memo);
    expect(second).toEqual(compileSite(weight));
    expect(named(second, 'dr1', 'mail')).toBe(named(first, 'dr1', 'mail'));
    expect(named(second, 'dr1', 'web')).not.toBe(named(first, 'dr1', 'web'));
    expect(named(second, 'dr1', 'web').realServers[0].weight).toBe(5);
    // Compiled again from an equal spec (a new object, as each request parses its own): all kept.
    const third = compileSite(
      site((d) => (d.spec.services[0].realServers[0].weight = 5)),
      memo,
    );
    expect(named(third, 'dr2', 'web')).toBe(named(second, 'dr2', 'web'));
  });

  it('resolves a service again when a node it names moves to another address, though its spec is the same', () => {
    const memo = new CompileMemo();
    const first = compileSite(site(), memo);
    const moved = site((d) => (d.spec.nodes[2].address = '10.99.0.21'));
    const second = compileSite(moved, memo);
    expect(second).toEqual(compileSite(moved));
    expect(named(second, 'dr1', 'web')).not.toBe(named(first, 'dr1', 'web'));
    expect(named(second, 'dr1', 'web').realServers[0].address).toBe('10.99.0.21');
    expect(named(second, 'dr1', 'mail').realServers[0].address).toBe('10.99.0.21');
    // A node no service names may move without a service being resolved again.
    const third = compileSite(
      site((d) => {
        d.spec.nodes[2].address = '10.99.0.21';
        d.spec.nodes[1].address = '10.99.0.22';
      }),
      memo,
    );
    expect(named(third, 'dr1', 'web')).toBe(named(second, 'dr1', 'web'));
  });

  it("keeps only the last compile's services: one removed and added back is resolved again", () => {
    const memo = new CompileMemo();
    const first = compileSite(site(), memo);
    compileSite(
      site((d) => d.spec.services.pop()),
      memo,
    );
    const back = compileSite(site(), memo);
    expect(back).toEqual(first);
    expect(named(back, 'dr1', 'mail')).not.toBe(named(first, 'dr1', 'mail'));
    expect(named(back, 'dr1', 'web')).toBe(named(first, 'dr1', 'web'));
    expect(memo.size).toBe(6);
  });

  it("gives a real server its last config while its node, its VIPs, the site's name and allowMassDelete are as they were", () => {
    const memo = new CompileMemo();
    const first = compileSite(site(), memo);
    const weight = compileSite(
      site((d) => (d.spec.services[0].realServers[0].weight = 5)),
      memo,
    );
    expect(weight.get('rs1')).toBe(first.get('rs1'));
    expect(weight.get('rs2')).toBe(first.get('rs2'));
    const edits: [string, (d: Doc) => void, string[]][] = [
      ['a VIP moved', (d) => (d.spec.services[0].vip = '10.99.0.102'), ['rs1', 'rs2']],
      ['a node given another interface', (d) => (d.spec.nodes[3].interface = 'eth1'), ['rs2']],
      ['forwarding by NAT', (d) => (d.spec.services[0].realServers[1].forwarding = 'nat'), ['rs2']],
      ['allowMassDelete', (d) => (d.spec.allowMassDelete = true), ['rs1', 'rs2']],
      ['the site renamed', (d) => (d.metadata.name = 't2'), ['rs1', 'rs2']],
    ];
    for (const [what, edit, changed] of edits) {
      const base = compileSite(site(), memo);
      const edited = site(edit);
      const after = compileSite(edited, memo);
      expect(after, what).toEqual(compileSite(edited));
      for (const rs of ['rs1', 'rs2']) expect(after.get(rs) === base.get(rs), `${what}: ${rs}`).toBe(!changed.includes(rs));
    }
  });

  it('follows a service that a spec names for one director only', () => {
    const memo = new CompileMemo();
    compileSite(site(), memo);
    const one = site((d) => (d.spec.services[1].directors = ['dr2']));
    const configs = compileSite(one, memo);
    expect(configs).toEqual(compileSite(one));
    expect(services(configs, 'dr1').map((s) => s.name)).toEqual(['web']);
    expect(services(configs, 'dr2').map((s) => s.name)).toEqual(['web', 'mail']);
  });
});
