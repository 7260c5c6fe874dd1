import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeConfig } from '../config/node-config.ts';
import { compileSite } from '../compiler/compile.ts';
import { parseSite } from '../site/parse.ts';
import { concerns, layer } from './layer.ts';
import { describeOverride, isActive, nextExpiry, Override, parseFor } from './override.ts';
import { override } from './overrides.test-support.ts';

const compiled = (file: string) => {
  const r = parseSite(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(file);
  return compileSite(r.site);
};
const seeds = compiled('seeds-lvs-dr.yaml');
const dr1 = seeds.get('dr1')!;
const dr2 = seeds.get('dr2')!;
const T0 = Date.parse('2026-01-01T00:30:00Z');
const weights = (c: NodeConfig) => c.services.flatMap((s) => s.realServers.map((r) => `${s.name}/${r.address}:${r.port}=${r.weight}`));

describe('layer', () => {
  it('drains a real server to weight 0 in every service, or in one; a port narrows it', () => {
    expect(weights(layer(dr1, [override('drain-realserver')], T0))).toEqual(['web/192.168.1.132:80=0', 'web/192.168.1.133:80=1', 'web/192.168.1.113:80=1']);
    expect(weights(layer(dr1, [override('drain-realserver', { service: 'api' })], T0))).toEqual(weights(dr1));
    expect(weights(layer(dr1, [override('drain-realserver', { port: 8080 })], T0))).toEqual(weights(dr1));
  });

  it('disables a service: every real server at weight 0 (its sorry server answers through quorum)', () => {
    const l = layer(dr1, [override('disable-service')], T0);
    expect(l.services[0].realServers.map((r) => r.weight)).toEqual([0, 0, 0]);
    expect(l.services[0].sorryServer).toEqual(dr1.services[0].sorryServer);
  });

  it('maintenance: the director at priority 1 and in maintenance; its peer preempts without delay', () => {
    const m = [override('maintenance-director', { node: 'dr1' })];
    expect(layer(dr1, m, T0).vrrp.instances[0]).toMatchObject({ priority: 1, maintenance: true });
    expect(layer(dr2, m, T0).vrrp.instances[0]).toMatchObject({ priority: 90, preempt: true, preemptDelayMs: 0 });
    expect(layer(dr2, m, T0).vrrp.instances[0].maintenance).toBeUndefined();
    expect(layer(dr2, [override('drain-director', { node: 'dr1' })], T0).vrrp.instances[0].preempt).toBe(true);
  });

  it('failover: the target at 254 with preempt, the others at 1', () => {
    const f = [override('failover', { node: 'dr2' })];
    expect(layer(dr2, f, T0).vrrp.instances[0]).toMatchObject({ priority: 254, preempt: true, preemptDelayMs: 0, failoverTarget: true });
    expect(layer(dr1, f, T0).vrrp.instances[0]).toMatchObject({ priority: 1 });
    expect(layer(dr1, f, T0).vrrp.instances[0].failoverTarget).toBeUndefined();
    expect(layer(dr1, f, T0).vrrp.instances[0].peers).toEqual(dr1.vrrp.instances[0].peers); // identity kept: no restart
  });

  it('precedence: maintenance beats a failover to that director; the newest failover of an instance wins', () => {
    const both = [override('failover', { node: 'dr1' }), override('maintenance-director', { node: 'dr1' })];
    expect(layer(dr1, both, T0).vrrp.instances[0]).toMatchObject({ priority: 1, maintenance: true });
    expect(layer(dr2, both, T0).vrrp.instances[0]).toMatchObject({ priority: 90, preempt: true });
    const older = override('failover', { node: 'dr1', createdAt: '2026-01-01T00:01:00.000Z' });
    const newer = override('failover', { node: 'dr2', createdAt: '2026-01-01T00:02:00.000Z' });
    for (const list of [
      [older, newer],
      [newer, older],
    ]) {
      expect(layer(dr2, list, T0).vrrp.instances[0].priority).toBe(254);
      expect(layer(dr1, list, T0).vrrp.instances[0].priority).toBe(1);
    }
  });

  it('expiry on the given clock: at and after `until` the revision config comes back, unchanged', () => {
    const o = [override('drain-realserver'), override('maintenance-director')];
    const until = Date.parse(o[0].until);
    expect(layer(dr1, o, until - 1)).not.toEqual(dr1);
    expect(layer(dr1, o, until)).toBe(dr1);
    expect(nextExpiry(o, T0)).toBe(until);
    expect(nextExpiry(o, until)).toBeNull();
    expect(isActive(o[0], until - 1)).toBe(true);
  });

  it('concerns: which nodes a document carries an override to', () => {
    const rs1 = seeds.get('rs1')!;
    expect(concerns(dr1, override('drain-realserver'))).toBe(true);
    expect(concerns(rs1, override('drain-realserver'))).toBe(false);
    expect(concerns(dr2, override('maintenance-director', { node: 'dr1' }))).toBe(true);
    expect(concerns(rs1, override('maintenance-director', { node: 'dr1' }))).toBe(false);
    expect(concerns(dr1, override('failover', { instance: 'VI_9' }))).toBe(false);
  });

  it('says what it does for people', () => {
    expect(describeOverride(override('drain-realserver', { until: '2026-01-01T03:30:00.000Z' }))).toBe('rs1 drained for maintenance until 03:30 UTC by alice');
    expect(describeOverride(override('failover', { force: { reason: 'dr1 is dying' } }))).toContain('VI_1 failed over to dr2');
    expect(describeOverride(override('failover', { force: { reason: 'dr1 is dying' } }))).toContain('(forced: dr1 is dying)');
    expect(describeOverride(override('drain-realserver', { node: null, address: '2001:db8::21', port: 80, service: 'web' }))).toMatch(
      /^\[2001:db8::21\]:80 drained in web /,
    );
    // The wire takes an address as the spec stores it; the API spells the operator's target that way first (decide.ts).
    expect(Override.safeParse(override('drain-realserver', { address: '2001:db8::21' })).success).toBe(true);
    expect(Override.safeParse(override('drain-realserver', { address: '2001:DB8::0:21' })).error?.issues[0]).toMatchObject({ path: ['address'] });
  });

  it('parses --for durations', () => {
    expect(parseFor('30m')).toBe(1_800_000);
    expect(parseFor('1d')).toBe(86_400_000);
    expect(parseFor('45s')).toBe(45_000);
    for (const bad of ['', '30', '0m', '1w', '32d', '-1h', '1.5h']) expect(parseFor(bad)).toBeNull();
  });
});

/** Overrides naming things that exist in the configs below, or not, at times around T0. */
const configs = [...seeds.values(), ...compiled('dual-master.yaml').values(), ...compiled('nat.yaml').values()];
const names = {
  nodes: [...new Set(configs.flatMap((c) => [c.node.name, ...c.vrrp.instances.flatMap((i) => i.peers.map((p) => p.node ?? 'x'))]))],
  instances: [...new Set(configs.flatMap((c) => c.vrrp.instances.map((i) => i.name)))],
  services: [...new Set(configs.flatMap((c) => c.services.map((s) => s.name)))],
  addresses: [...new Set(configs.flatMap((c) => c.services.flatMap((s) => s.realServers.map((r) => r.address))))],
};
const overrideArb: fc.Arbitrary<Override> = fc
  .record({
    kind: fc.constantFrom('drain-realserver', 'drain-director', 'maintenance-director', 'failover', 'disable-service'),
    node: fc.constantFrom(...names.nodes),
    instance: fc.constantFrom(...names.instances, 'VI_404'),
    service: fc.option(fc.constantFrom(...names.services, 'nope'), { nil: null }),
    address: fc.constantFrom(...names.addresses, '10.0.0.1'),
    port: fc.option(fc.constantFrom(80, 8080, 443), { nil: null }),
    untilOffset: fc.integer({ min: -3_600_000, max: 3_600_000 }),
    created: fc.integer({ min: 0, max: 100 }),
    id: fc.string({ minLength: 1, maxLength: 4 }),
  })
  .map((g) => {
    const meta = {
      id: g.id,
      until: new Date(T0 + g.untilOffset).toISOString(),
      createdAt: new Date(Date.parse('2026-01-01T00:00:00Z') + g.created * 1000).toISOString(),
    };
    switch (g.kind) {
      case 'drain-realserver':
        return override('drain-realserver', { ...meta, service: g.service, address: g.address, port: g.port, node: null });
      case 'disable-service':
        return override('disable-service', { ...meta, service: g.service ?? 'web' });
      case 'failover':
        return override('failover', { ...meta, instance: g.instance, node: g.node });
      default:
        return override(g.kind as 'drain-director', { ...meta, node: g.node });
    }
  })
  .map((o) => Override.parse(o));

describe('layer (properties)', () => {
  const arb = fc.record({
    config: fc.constantFrom(...configs),
    overrides: fc.array(overrideArb, { maxLength: 8 }),
    at: fc.integer({ min: -3_600_000, max: 3_600_000 }),
  });

  it('revert: once every override expired, the result is exactly the revision config', () => {
    fc.assert(
      fc.property(arb, ({ config, overrides }) => {
        const end = Math.max(T0, ...overrides.map((o) => Date.parse(o.until)));
        expect(layer(config, overrides, end)).toBe(config);
        expect(layer(config, [], T0)).toBe(config);
      }),
    );
  });

  it('only the overrides active at `now` count; order does not matter; layering twice is layering once; the result is a valid config', () => {
    fc.assert(
      fc.property(arb, ({ config, overrides, at }) => {
        const now = T0 + at;
        const l = layer(config, overrides, now);
        expect(l).toEqual(
          layer(
            config,
            overrides.filter((o) => isActive(o, now)),
            now,
          ),
        );
        expect(l).toEqual(layer(config, [...overrides].reverse(), now));
        expect(layer(l, overrides, now)).toEqual(l);
        expect(NodeConfig.safeParse(l).success).toBe(true);
      }),
    );
  });

  it('weights: only ever the configured weight or 0; 0 exactly where an active drain or disable matches', () => {
    fc.assert(
      fc.property(arb, ({ config, overrides, at }) => {
        const now = T0 + at;
        const active = overrides.filter((o) => isActive(o, now));
        const l = layer(config, overrides, now);
        config.services.forEach((s, si) =>
          s.realServers.forEach((r, ri) => {
            const hit = active.some(
              (o) =>
                (o.kind === 'disable-service' && o.service === s.name) ||
                (o.kind === 'drain-realserver' &&
                  (o.service === null || o.service === s.name) &&
                  o.address === r.address &&
                  (o.port === null || o.port === r.port)),
            );
            expect(l.services[si].realServers[ri].weight).toBe(hit ? 0 : r.weight);
            if (hit) expect(l.services[si].realServers[ri].inhibitOnFailure).toBe(true);
          }),
        );
        // Nothing but weights (with inhibit) and VRRP priorities/preempt/maintenance/failoverTarget ever changes.
        const strip = (c: NodeConfig) => ({
          ...c,
          services: c.services.map((s) => ({ ...s, realServers: s.realServers.map((r) => ({ ...r, weight: 0, inhibitOnFailure: false })) })),
          vrrp: {
            ...c.vrrp,
            instances: c.vrrp.instances.map((i) => ({
              ...i,
              priority: 0,
              preempt: false,
              preemptDelayMs: 0,
              maintenance: undefined,
              failoverTarget: undefined,
            })),
          },
        });
        expect(strip(l)).toEqual(strip(config));
      }),
    );
  });
});
