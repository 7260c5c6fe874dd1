import { describe, expect, it } from 'vitest';
import { bucketLimits, rateLimiter } from './rate-limit.ts';
import { useTestApp } from './test-app.test-support.ts';

describe('rateLimiter', () => {
  it('allows a burst, then answers the seconds until the bucket refills', () => {
    const l = rateLimiter({ rate: 0.5, burst: 3 });
    expect([l.take('a', 0), l.take('a', 0), l.take('a', 0)]).toEqual([null, null, null]);
    expect(l.take('a', 0)).toBe(2);
    expect(l.take('b', 0)).toBeNull(); // another key has its own bucket
    expect(l.take('a', 1_000)).toBe(1);
    expect(l.take('a', 2_000)).toBeNull();
  });
});

describe('API limits', () => {
  let address = '192.0.2.1';
  const t = useTestApp({
    deps: () => ({
      rateLimits: bucketLimits({ perAddress: { rate: 0.01, burst: 5 }, perToken: { rate: 0.01, burst: 3 }, enrollPerAddress: { rate: 0.01, burst: 2 } }),
      clientAddress: () => address,
    }),
  });

  it('answers 429 with Retry-After after the per-token limit, and after the per-address limit', async () => {
    address = '192.0.2.1';
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.req('/v1/sites', { as: 'viewer' })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await t.req('/v1/sites', { as: 'viewer' });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await limited.json()).error.code).toBe('rate_limited');
    // Another token from the same address still has the address's last request.
    expect((await t.req('/v1/sites', { as: 'operator' })).status).toBe(429);
    address = '192.0.2.2';
    expect((await t.req('/v1/sites', { as: 'operator' })).status).toBe(200);
  });

  it('limits enrollment attempts per address more tightly', async () => {
    address = '192.0.2.3';
    const tries = [];
    for (let i = 0; i < 3; i++) tries.push((await t.req('/v1/agent/enroll', { method: 'POST', json: { token: 'lvfe_nope' }, as: null })).status);
    expect(tries.slice(0, 2)).not.toContain(429);
    expect(tries[2]).toBe(429);
  });

  it('limits dashboard log-ins (a token guessed through POST /v1/session) as tightly as enrollment', async () => {
    address = '192.0.2.4';
    const tries = [];
    for (let i = 0; i < 3; i++) tries.push((await t.req('/v1/session', { method: 'POST', json: { token: `lvf_guess${i}` }, as: null })).status);
    expect(tries).toEqual([401, 401, 429]);
  });
});
