import { describe, expect, it } from 'vitest';
import { bindingLimits, type RateLimitBinding } from './rate-limits.ts';

/** A binding that allows `allow` calls and records each key it was asked about. */
function counting(allow: number): RateLimitBinding & { keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    async limit({ key }) {
      keys.push(key);
      return { success: keys.length <= allow };
    },
  };
}

describe('bindingLimits', () => {
  it('asks the binding of each kind, answers its window when refused, and never hands it a bearer token', async () => {
    const [address, token] = [counting(1), counting(5)];
    const limits = bindingLimits({ LIMIT_ADDRESS: address, LIMIT_TOKEN: token })!;
    expect(await limits('address', '198.51.100.7', 0)).toBeNull();
    expect(await limits('address', '198.51.100.7', 0)).toBe(60);
    expect(address.keys).toEqual(['198.51.100.7', '198.51.100.7']);
    expect(await limits('token', 'lvf_secret', 0)).toBeNull();
    expect(token.keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(token.keys[0]).not.toContain('lvf_secret');
    // A kind without a binding is not limited; no bindings at all means no limits.
    expect(await limits('enroll', '198.51.100.7', 0)).toBeNull();
    expect(bindingLimits({})).toBeUndefined();
  });
});
