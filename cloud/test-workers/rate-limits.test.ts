import { exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';

const token = inject('workersToken');

/** A request from `address`, as Cloudflare's edge tells the Worker (cf-connecting-ip). */
const from = (address: string, path: string, init: RequestInit = {}) =>
  exports.default.fetch(`http://lvsfleet.test${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': address, ...(init.headers as Record<string, string> | undefined) },
  });

describe("request limits on Workers (the platform's rate-limit bindings of wrangler.toml)", () => {
  it('answers 429 with Retry-After after 10 enrollment or log-in attempts a minute from one address, and only to that address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await from('198.51.100.7', '/v1/agent/enroll', { method: 'POST', body: JSON.stringify({ token: `lvfe_guess${i}` }) })).status);
    // Log-ins spend the same per-address budget as enrollment.
    for (let i = 0; i < 4; i++)
      statuses.push((await from('198.51.100.7', '/v1/session', { method: 'POST', body: JSON.stringify({ token: `lvf_guess${i}` }) })).status);
    expect(statuses).not.toContain(429);
    const limited = await from('198.51.100.7', '/v1/agent/enroll', { method: 'POST', body: JSON.stringify({ token: 'lvfe_guess10' }) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // A signed-in request from that address is not an attempt; another address still may try.
    expect((await from('198.51.100.7', '/v1/sites', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await from('198.51.100.8', '/v1/agent/enroll', { method: 'POST', body: JSON.stringify({ token: 'lvfe_other' }) })).status).not.toBe(429);
  });
});
