import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from '#shared/wire/events.ts';
import { MAX_STATUS_BYTES } from '#shared/wire/status.ts';
import { classify, eventKey, isStaleReport, mergeStatus, MISBEHAVING_EVERY_MS, misbehavingKey, raiseMisbehaving, REPLICA_LAG_MS } from './decide.ts';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const T = (id: string, kind: string) => `lvsfleet/v1/nodes/${id}/${kind}`;
const at = '2026-01-01T00:00:00.000Z';

describe('classify', () => {
  it('takes a valid status and event for the node of the topic', () => {
    expect(classify(T('s.a', 'status'), enc({ nodeId: 's.a', online: true, appliedRevision: 3 }))).toEqual({
      kind: 'status',
      nodeId: 's.a',
      status: { nodeId: 's.a', online: true, appliedRevision: 3 },
    });
    const ev = { nodeId: 's.a', at, type: 'apply.succeeded', data: { revision: 3 } };
    expect(classify(T('s.a', 'events'), enc(ev))).toEqual({ kind: 'event', nodeId: 's.a', event: ev });
  });
  it('refuses a payload that names another node', () => {
    expect(classify(T('s.a', 'status'), enc({ nodeId: 's.b', online: true }))).toMatchObject({ kind: 'reject', reason: 'node_mismatch' });
    expect(classify(T('s.a', 'events'), enc({ nodeId: 's.b', at, type: 'apply.succeeded', data: { revision: 1 } }))).toMatchObject({
      kind: 'reject',
      reason: 'node_mismatch',
    });
  });
  it.each([
    ['not json', T('s.a', 'status'), enc('{nope'), 'json'],
    ['bad utf-8', T('s.a', 'status'), new Uint8Array([0xff, 0xfe]), 'json'],
    ['missing online', T('s.a', 'status'), enc({ nodeId: 's.a' }), 'schema'],
    ['unknown event type', T('s.a', 'events'), enc({ nodeId: 's.a', at, type: 'x', data: {} }), 'schema'],
    ['event without data', T('s.a', 'events'), enc({ nodeId: 's.a', at, type: 'apply.failed' }), 'schema'],
    ['U+0000 in a status (the database cannot store it)', T('s.a', 'status'), enc({ nodeId: 's.a', online: true, agentVersion: 'a\u0000b' }), 'schema'],
    ['U+0000 in an event member name', T('s.a', 'events'), enc({ nodeId: 's.a', at, type: 'apply.failed', data: { 'x\u0000': 1 } }), 'schema'],
    [
      'an event in year 0 (ISO 8601 has one, PostgreSQL not)',
      T('s.a', 'events'),
      enc({ nodeId: 's.a', at: '0000-06-01T00:00:00Z', type: 'apply.failed', data: { revision: 1, error: 'x' } }),
      'schema',
    ],
    ['foreign topic', 'other/topic', enc({}), 'topic'],
    ['injected topic', 'lvsfleet/v1/nodes/s.a/../s.b/status', enc({ nodeId: 's.b', online: true }), 'topic'],
  ])('refuses %s', (_name, topic, payload, reason) => {
    expect(classify(topic as string, payload as Uint8Array)).toMatchObject({ kind: 'reject', reason });
  });
  it('names where a U+0000 is, and takes the escaped text "\\u0000" (a backslash, then u0000)', () => {
    expect(classify(T('s.a', 'status'), enc({ nodeId: 's.a', online: true, agentVersion: 'a\u0000b' }))).toMatchObject({
      detail: expect.stringContaining('agentVersion: holds U+0000'),
    });
    expect(classify(T('s.a', 'status'), enc({ nodeId: 's.a', online: true, agentVersion: 'a\\u0000b' }))).toMatchObject({ kind: 'status' });
  });
  it('ignores desired documents and cleared retained topics', () => {
    expect(classify(T('s.a', 'desired'), enc('x.y.z'))).toEqual({ kind: 'ignore' });
    expect(classify(T('s.a', 'status'), new Uint8Array())).toEqual({ kind: 'ignore' });
  });
});

describe('mergeStatus', () => {
  it('raises node.online the first time and on return, node.offline on the will', () => {
    const first = mergeStatus(undefined, { nodeId: 's.a', online: true, appliedRevision: 2, agentVersion: '1' });
    expect(first).toMatchObject({ online: true, appliedRevision: 2, presence: 'node.online' });
    const same = mergeStatus(first, { nodeId: 's.a', online: true, appliedRevision: 3 });
    expect(same).toMatchObject({ appliedRevision: 3, presence: null });
    const will = mergeStatus(same, { nodeId: 's.a', online: false });
    expect(will).toEqual({ online: false, appliedRevision: 3, status: { nodeId: 's.a', online: false, appliedRevision: 3 }, presence: 'node.offline' });
    expect(mergeStatus(will, { nodeId: 's.a', online: false })).toMatchObject({ presence: null });
    expect(mergeStatus(will, { nodeId: 's.a', online: true })).toMatchObject({ presence: 'node.online', appliedRevision: 3 });
  });
  it('a first report of offline raises nothing', () => {
    expect(mergeStatus(undefined, { nodeId: 's.a', online: false })).toMatchObject({ presence: null, appliedRevision: null });
  });
});

describe('bounds', () => {
  it('refuses a status over MAX_STATUS_BYTES and an event over MAX_EVENT_BYTES before parsing, naming the node', () => {
    const big = new Uint8Array(MAX_STATUS_BYTES + 1).fill(0x20);
    expect(classify(T('s.a', 'status'), big)).toMatchObject({ kind: 'reject', reason: 'oversize', nodeId: 's.a' });
    expect(classify(T('s.a', 'events'), new Uint8Array(MAX_EVENT_BYTES + 1).fill(0x20))).toMatchObject({ kind: 'reject', reason: 'oversize' });
  });
  it("takes a large director's status whole: a service of 2,000 real servers, and a 10,000-node site's 40 services of 250", () => {
    const service = (name: string, n: number) => ({
      name,
      quorum: true,
      realServers: Array.from({ length: n }, (_, i) => ({
        address: `10.99.${Math.floor(i / 250) + 1}.${(i % 250) + 2}`,
        port: 80,
        healthy: true,
        weight: 1,
        detail: 'TCP connect ok',
        checked: true,
        activeConnections: 0,
      })),
    });
    for (const services of [[service('big', 2000)], Array.from({ length: 40 }, (_, s) => service(`web${s + 1}`, s < 39 ? 250 : 248))]) {
      const payload = enc({ nodeId: 's.dr1', online: true, appliedRevision: 2, services });
      expect(payload.length).toBeLessThan(MAX_STATUS_BYTES);
      const r = classify(T('s.dr1', 'status'), payload);
      expect(r.kind === 'status' && r.status.services!.reduce((n, s) => n + s.realServers.length, 0)).toBe(
        services.reduce((n, s) => n + s.realServers.length, 0),
      );
    }
  });
  it('raises node.misbehaving at most once per node per window', () => {
    expect(raiseMisbehaving(undefined, 1_000)).toBe(true);
    expect(raiseMisbehaving(1_000, 1_000 + MISBEHAVING_EVERY_MS - 1)).toBe(false);
    expect(raiseMisbehaving(1_000, 1_000 + MISBEHAVING_EVERY_MS)).toBe(true);
  });
});

describe('isStaleReport: a report another replica took, or older than one it took', () => {
  const node = 'bj-dc1.dr1';
  const t = (s: number) => new Date(Date.UTC(2026, 11, 1, 3, 0, s)).toISOString();
  const now = Date.UTC(2026, 11, 1, 3, 0, 10);
  const stored = (at: string | undefined, online: boolean, storedAt = now - 1_000) => ({ at, online, storedAt });
  const report = (at: string) => ({ nodeId: node, online: true, at });
  const will = { nodeId: node, online: false };

  it('takes anything when nothing is stored, or the stored report is older than the replicas can lag', () => {
    expect(isStaleReport(undefined, report(t(1)), undefined, now)).toBe(false);
    expect(isStaleReport(stored(undefined, false), report(t(1)), undefined, now)).toBe(false);
    expect(isStaleReport(stored(t(5), true, now - REPLICA_LAG_MS - 1), report(t(1)), undefined, now)).toBe(false);
  });

  it('drops an older report, and the report the stored last will followed', () => {
    expect(isStaleReport(stored(t(5), true), report(t(1)), undefined, now)).toBe(true);
    expect(isStaleReport(stored(t(5), false), report(t(5)), undefined, now)).toBe(true);
    expect(isStaleReport(stored(t(5), true), report(t(5)), undefined, now)).toBe(false);
    expect(isStaleReport(stored(t(5), false), report(t(6)), undefined, now)).toBe(false);
  });

  it("places a last will by the report before it in this replica's stream", () => {
    expect(isStaleReport(stored(t(5), true), will, t(1), now)).toBe(true);
    expect(isStaleReport(stored(t(5), true), will, t(5), now)).toBe(false);
    expect(isStaleReport(stored(t(5), false), will, t(5), now)).toBe(false);
    expect(isStaleReport(stored(t(5), true), will, undefined, now)).toBe(false);
  });
});

describe('event keys', () => {
  it('are the same for the same message and differ for another', () => {
    const a = new TextEncoder().encode('{"nodeId":"n","at":"2026-12-01T03:00:00.000Z","type":"x"}');
    expect(eventKey(a)).toBe(eventKey(Uint8Array.from(a)));
    expect(eventKey(a)).not.toBe(eventKey(new TextEncoder().encode('{"nodeId":"n","at":"2026-12-01T03:00:00.001Z","type":"x"}')));
    expect(misbehavingKey(0)).toBe(misbehavingKey(MISBEHAVING_EVERY_MS - 1));
    expect(misbehavingKey(0)).not.toBe(misbehavingKey(MISBEHAVING_EVERY_MS));
  });
});
