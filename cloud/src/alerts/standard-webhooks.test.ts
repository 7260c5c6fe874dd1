import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, verifyWebhook } from './standard-webhooks.ts';
import { classifyResponse, nextDelayMs, MAX_ATTEMPTS } from './retry.ts';

describe('Standard Webhooks signatures', () => {
  it('matches the specification test vector', () => {
    // Vector from the Standard Webhooks specification's reference libraries.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const h = signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(h['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own signatures and rejects tampering, other secrets and old timestamps', () => {
    const secret = newWebhookSecret();
    const h = signWebhook(secret, 'id1', 1000, '{"a":1}');
    expect(verifyWebhook(secret, h, '{"a":1}', 1000)).toBe(true);
    expect(verifyWebhook(secret, h, '{"a":2}', 1000)).toBe(false);
    expect(verifyWebhook(newWebhookSecret(), h, '{"a":1}', 1000)).toBe(false);
    expect(verifyWebhook(secret, h, '{"a":1}', 1000 + 301)).toBe(false);
    expect(verifyWebhook(secret, { ...h, 'webhook-signature': `v1,bogus ${h['webhook-signature']}` }, '{"a":1}', 1000)).toBe(true);
  });
});

describe('delivery retry', () => {
  it('backs off with bounded jitter and gives up', () => {
    expect(nextDelayMs(1, () => 0.5)).toBe(5_000);
    expect(nextDelayMs(2, () => 0)).toBe(24_000);
    expect(nextDelayMs(6, () => 1)).toBe(4_320_000);
    expect(nextDelayMs(7, () => 0.5)).toBe(7_200_000);
    expect(nextDelayMs(MAX_ATTEMPTS)).toBeNull();
  });
  it('retries timeouts, throttling and server errors only', () => {
    expect([200, 204, 408, 429, 500, 503, 400, 404, 410, null].map(classifyResponse)).toEqual([
      'delivered',
      'delivered',
      'retry',
      'retry',
      'retry',
      'retry',
      'failed',
      'failed',
      'failed',
      'retry',
    ]);
  });
});
