import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { IpAddress } from '../util/ip.ts';
import { compileNode } from '../compiler/compile.ts';
import { validateSite } from '../site/validate.ts';
import { baseDoc } from '../site/site.test-support.ts';
import { DesiredClaims } from './desired-claims.ts';
import { EnrollRequest, EnrollResponse, EnrollmentTokenResponse } from './enroll.ts';
import { NodeEvent } from './events.ts';
import { NodeStatus, lastWill } from './status.ts';

const site = (() => {
  const r = validateSite(baseDoc());
  if (!r.ok) throw new Error('base site is invalid');
  return r.site;
})();
const at = '2026-01-02T03:04:05.000Z';
const claims = { nodeId: 't1.dr1', site: 't1', revision: 3, issuedAt: at, config: compileNode(site, 'dr1') };

describe('DesiredClaims', () => {
  it('accepts claims carrying a compiled config', () => {
    expect(DesiredClaims.parse(claims)).toEqual(claims);
  });

  it.each([
    ['revision 0', { revision: 0 }, 'revision'],
    ['fractional revision', { revision: 1.5 }, 'revision'],
    ['revision beyond 2^53', { revision: 2 ** 53 }, 'revision'],
    ['issuedAt not a timestamp', { issuedAt: 'yesterday' }, 'issuedAt'],
    ['empty nodeId', { nodeId: '' }, 'nodeId'],
    ['an extra claim', { extra: true }, ''],
    ['a config that is not a NodeConfig', { config: { ...claims.config, kind: 'Site' } }, 'config.kind'],
  ])('refuses %s', (_name, patch, path) => {
    const r = DesiredClaims.safeParse({ ...claims, ...patch });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

/**
 * Where a schema can answer something other than its input: a transform, pipe, default, catch, or
 * an `overwrite` check (zod v4's definitions, walked). Paths name the place.
 */
function rewrites(schema: z.core.$ZodType, path = '$', seen = new Set<unknown>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string; checks?: z.core.$ZodCheck[] };
  const out: string[] = [];
  if (['transform', 'pipe', 'default', 'prefault', 'catch', 'codec'].includes(def.type)) out.push(`${path} (${def.type})`);
  for (const c of def.checks ?? []) if ((c._zod.def as { check: string }).check === 'overwrite') out.push(`${path} (overwrite)`);
  const sub = (s: unknown, p: string) => (s ? out.push(...rewrites(s as z.core.$ZodType, p, seen)) : 0);
  if (def.type === 'object') for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) sub(v, `${path}.${k}`);
  sub(def.catchall, `${path}[*]`);
  sub(def.element, `${path}[]`);
  sub(def.innerType, path);
  sub(def.keyType, `${path}{key}`);
  sub(def.valueType, `${path}{}`);
  sub(def.in, path);
  sub(def.out, path);
  for (const [i, o] of ((def.options as unknown[]) ?? []).entries()) sub(o, `${path}|${i}`);
  if (typeof def.getter === 'function') sub((def.getter as () => unknown)(), path);
  return out;
}

describe('the wire schema changes nothing it parses', () => {
  // The agent reuses claims its own build checked once, as they were read (agent/src/intake/verify.ts):
  // that is sound only while parsing returns the input itself.
  it('DesiredClaims has no transform, default or overwrite anywhere', () => {
    expect(rewrites(DesiredClaims)).toEqual([]);
  });

  it('the walk finds rewrites where there are some (the spec side canonicalises addresses)', () => {
    expect(rewrites(IpAddress)).toEqual(['$ (overwrite)']);
    expect(rewrites(z.strictObject({ a: z.array(z.strictObject({ b: z.number().default(1) })).optional() }))).toEqual(['$.a[].b (default)']);
    expect(rewrites(z.union([z.string(), z.string().transform((s) => s.length)]))).toEqual(['$|1 (pipe)', '$|1 (transform)']);
  });

  it('an address in another spelling than the canonical one is refused, with its path', () => {
    const v6 = { ...claims.config, node: { ...claims.config.node, address6: '2001:DB8::0:10' } };
    const r = DesiredClaims.safeParse({ ...claims, config: v6 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'config.node.address6: expected an IPv6 address as RFC 5952 writes it, like 2001:db8::10',
    ]);
    expect(DesiredClaims.safeParse({ ...claims, config: { ...v6, node: { ...v6.node, address6: '2001:db8::10' } } }).success).toBe(true);
  });
});

describe('NodeStatus', () => {
  it('the last will is a valid offline status', () => {
    expect(lastWill('t1.dr1')).toEqual({ nodeId: 't1.dr1', online: false });
    expect(NodeStatus.parse(lastWill('t1.dr1'))).toEqual({ nodeId: 't1.dr1', online: false });
  });

  it('accepts a full report', () => {
    const status = {
      nodeId: 't1.dr1',
      online: true,
      at,
      site: 't1',
      node: 'dr1',
      agentVersion: '0.1.0',
      appliedRevision: 3,
      pendingRevision: null,
      vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 70, since: at }],
      services: [{ name: 'web', quorum: true, realServers: [{ address: '10.99.0.11', port: 80, healthy: true, weight: 2 }] }],
      ipvs: { ok: false, error: 'ip_vs module not loaded' },
      realServer: { ok: true, drift: [], warnings: [] },
      errors: [],
      health: {
        status: 'degraded',
        garpAvailable: false,
        helpers: [{ name: 'garp-helper', state: 'absent', restarts: 0, lastError: 'no python3', since: at }],
      },
    };
    expect(NodeStatus.parse(status)).toEqual(status);
  });

  it.each([
    ['no nodeId', { online: true }],
    ['online as a string', { nodeId: 'a.b', online: 'yes' }],
    [
      'an unknown helper state',
      {
        nodeId: 'a.b',
        online: true,
        health: { status: 'ok', garpAvailable: true, helpers: [{ name: 'x', state: 'zombie', restarts: 0, lastError: null, since: at }] },
      },
    ],
    [
      'an unbounded helper error',
      {
        nodeId: 'a.b',
        online: true,
        health: { status: 'ok', garpAvailable: true, helpers: [{ name: 'x', state: 'failed', restarts: 0, lastError: 'e'.repeat(501), since: at }] },
      },
    ],
    ['an unknown VRRP state', { nodeId: 'a.b', online: true, vrrp: [{ instance: 'VI_1', vrid: 1, state: 'PRIMARY', priority: 1, effectivePriority: 1 }] }],
  ])('refuses %s', (_name, value) => expect(NodeStatus.safeParse(value).success).toBe(false));
});

describe('NodeEvent', () => {
  const base = { nodeId: 't1.dr1', at };
  it.each([
    { type: 'vrrp.transition', data: { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down' } },
    { type: 'realserver.down', data: { service: 'web', address: '10.99.0.11', port: 80, check: 'http', detail: 'status 503' } },
    { type: 'realserver.up', data: { service: 'web', address: '10.99.0.11', port: 80, check: 'http', detail: 'status 200' } },
    { type: 'service.quorum_lost', data: { service: 'web', weight: 0, quorum: 1 } },
    { type: 'service.quorum_restored', data: { service: 'web', weight: 2, quorum: 1 } },
    { type: 'apply.succeeded', data: { revision: 3 } },
    { type: 'apply.failed', data: { revision: 3, error: 'ipvsadm-restore exited 1' } },
    { type: 'config.rejected', data: { why: 'replay', detail: 'revision 2 is not newer than 3', revision: 2 } },
    { type: 'realserver.drift', data: { what: 'VIP 10.99.0.100 missing on lo', repaired: true } },
    { type: 'agent.helper_restarted', data: { helper: 'garp-helper', restarts: 1, error: 'exited (SIGKILL)', delayMs: 0, state: 'running' } },
    { type: 'agent.degraded', data: { what: 'garp', detail: 'no way to send gratuitous ARP' } },
  ])('accepts $type', (event) => expect(NodeEvent.parse({ ...base, ...event })).toEqual({ ...base, ...event }));

  it.each([
    ['an unknown type', { type: 'node.exploded', data: {} }],
    ['a transition to an unknown state', { type: 'vrrp.transition', data: { instance: 'VI_1', from: 'BACKUP', to: 'LEADER', reason: '' } }],
    ['a rejection without a reason', { type: 'config.rejected', data: { detail: 'x' } }],
    [
      'a helper restart with an unbounded error',
      { type: 'agent.helper_restarted', data: { helper: 'ip-batch', restarts: 1, error: 'e'.repeat(501), delayMs: 0 } },
    ],
    ['a bad timestamp', { type: 'apply.succeeded', data: { revision: 1 }, at: 'now' }],
  ])('refuses %s', (_name, event) => expect(NodeEvent.safeParse({ ...base, ...event }).success).toBe(false));
});

describe('enrollment', () => {
  const token = 'a'.repeat(32);
  it('accepts a request and a response', () => {
    expect(EnrollRequest.parse({ token })).toEqual({ token });
    expect(EnrollmentTokenResponse.parse({ token, expiresAt: at })).toEqual({ token, expiresAt: at });
    const response = {
      nodeId: 't1.dr1',
      site: 't1',
      node: 'dr1',
      mqtt: { url: 'mqtt://127.0.0.1:1883', username: 't1.dr1', password: 'p' },
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k1', alg: 'EdDSA' }],
    };
    expect(EnrollResponse.parse(response)).toEqual(response);
  });

  it.each([
    ['a short token', { token: 'short' }],
    ['an extra field', { token, node: 'dr1' }],
    ['a token over 512 characters', { token: 'x'.repeat(513) }],
  ])('refuses a request with %s', (_name, body) => expect(EnrollRequest.safeParse(body).success).toBe(false));

  it('refuses a response without keys or with a non-Ed25519 key', () => {
    const ok = { nodeId: 'a.b', site: 'a', node: 'b', mqtt: { url: 'u', username: 'a.b', password: 'p' } };
    expect(EnrollResponse.safeParse({ ...ok, keys: [] }).success).toBe(false);
    expect(EnrollResponse.safeParse({ ...ok, keys: [{ kty: 'EC', crv: 'P-256', x: 'a', kid: 'k' }] }).success).toBe(false);
  });
});
