import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { requireScrapeToken } from './scrape-token.ts';

const refusal = (token: string | null | undefined, auth: string | undefined) => {
  try {
    requireScrapeToken(token, auth);
    return null;
  } catch (err) {
    return err instanceof ApiError ? `${err.status} ${err.code}` : String(err);
  }
};

describe('requireScrapeToken', () => {
  it('asks nothing when no token is configured (lvsfleet serve)', () => {
    expect(refusal(undefined, undefined)).toBeNull();
  });
  it('is off (404) without its secret, whatever the request carries', () => {
    expect(refusal(null, 'Bearer anything')).toBe('404 not_found');
  });
  it('wants the exact bearer token', () => {
    expect(refusal('s3cret', undefined)).toBe('401 unauthorized');
    expect(refusal('s3cret', 'Basic czNjcmV0')).toBe('401 unauthorized');
    expect(refusal('s3cret', 'Bearer s3cre')).toBe('401 unauthorized');
    expect(refusal('s3cret', 'Bearer s3cret ')).toBe('401 unauthorized');
    expect(refusal('s3cret', 'Bearer s3cret')).toBeNull();
  });
});
