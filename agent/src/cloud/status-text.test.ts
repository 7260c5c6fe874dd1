import { describe, expect, it } from 'vitest';
import { NodeStatus } from '#shared/wire/status.ts';
import { SHORT_DETAIL, statusText } from './status-text.ts';

/** A director's status with `n` real servers in one service, each with a check detail of `detail` characters. */
function directorStatus(n: number, detail: number, errors?: string[]): NodeStatus {
  const realServers = Array.from({ length: n }, (_, i) => ({
    address: `10.99.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    port: 80,
    healthy: false,
    weight: 1,
    detail: `connect failed: ${'x'.repeat(detail)}`.slice(0, detail),
  }));
  return { nodeId: 's.dr1', online: true, appliedRevision: 3, services: [{ name: 'web', quorum: false, realServers }], ...(errors ? { errors } : {}) };
}

/** What the cloud does with the text first: its size, then the schema. */
function asTheCloudReads(text: string, max: number): NodeStatus {
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(max);
  return NodeStatus.parse(JSON.parse(text));
}

describe('statusText: a status the cloud takes whole', () => {
  it('is the status as it is while it fits', () => {
    const s = directorStatus(100, 400);
    expect(statusText(s, 100_000)).toBe(JSON.stringify(s));
  });

  it("cuts the real servers' long check details first, and says so", () => {
    const s = directorStatus(100, 400, ['apply failed once']);
    const max = 30_000;
    expect(JSON.stringify(s).length).toBeGreaterThan(max);
    const got = asTheCloudReads(statusText(s, max), max);
    expect(got.services![0].realServers).toHaveLength(100);
    for (const r of got.services![0].realServers) expect(r.detail).toHaveLength(SHORT_DETAIL);
    expect(got.services![0].realServers[0].detail!.endsWith('…')).toBe(true);
    expect(got.errors).toEqual(['apply failed once', `status over ${max} bytes: 100 real servers' check details cut to ${SHORT_DETAIL} characters`]);
  });

  it("leaves the real servers' states out when that is not enough, keeping the rest and saying how many", () => {
    const s = directorStatus(2000, 400);
    const max = 50_000;
    const got = asTheCloudReads(statusText(s, max), max);
    expect(got.services).toBeUndefined();
    expect(got).toMatchObject({ nodeId: 's.dr1', online: true, appliedRevision: 3 });
    expect(got.errors).toEqual([`status over ${max} bytes: the states of 1 services' 2000 real servers left out`]);
  });

  it('keeps its errors within the schema: the last of 64 gives way to the note', () => {
    const errors = Array.from({ length: 64 }, (_, i) => `error ${i}`);
    const got = asTheCloudReads(statusText(directorStatus(2000, 400, errors), 50_000), 50_000);
    expect(got.errors).toHaveLength(64);
    expect(got.errors!.slice(0, 63)).toEqual(errors.slice(0, 63));
    expect(got.errors![63]).toMatch(/^status over 50000 bytes/);
  });
});
