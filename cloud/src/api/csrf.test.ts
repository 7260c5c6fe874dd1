import { describe, expect, it } from 'vitest';
import { csrfRefusal, type CsrfFacts } from './csrf.ts';

const ok: CsrfFacts = { method: 'PUT', host: 'lb.example:8080', origin: 'https://lb.example:8080', fetchSite: 'same-origin', token: 'abc' };

describe('CSRF check of cookie-authenticated requests', () => {
  it('lets safe methods through without any proof', () => {
    expect(csrfRefusal({ method: 'GET', host: 'x', origin: 'https://evil.example', fetchSite: 'cross-site', token: undefined }, 'abc')).toBeNull();
  });

  it('accepts a same-origin write with the right token, with or without Origin', () => {
    expect(csrfRefusal(ok, 'abc')).toBeNull();
    expect(csrfRefusal({ ...ok, origin: undefined, fetchSite: undefined }, 'abc')).toBeNull();
  });

  it('refuses another origin, a cross-site fetch, a missing and a wrong token', () => {
    expect(csrfRefusal({ ...ok, origin: 'https://evil.example' }, 'abc')).toMatch(/cross-origin request refused \(Origin: https:\/\/evil\.example\)/);
    expect(csrfRefusal({ ...ok, origin: 'null' }, 'abc')).toMatch(/cross-origin/);
    expect(csrfRefusal({ ...ok, fetchSite: 'same-site' }, 'abc')).toMatch(/Sec-Fetch-Site: same-site/);
    expect(csrfRefusal({ ...ok, token: undefined }, 'abc')).toMatch(/missing CSRF token/);
    expect(csrfRefusal({ ...ok, token: 'abd' }, 'abc')).toBe('wrong CSRF token for this session');
    expect(csrfRefusal({ ...ok, method: 'delete', token: 'ab' }, 'abc')).toBe('wrong CSRF token for this session');
  });
});
