import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-app.test-support.ts';

/** Names the tests' resolver knows; nothing here is ever connected to. */
const NAMES: Record<string, string[]> = {
  'hooks.internal.test': ['127.0.0.1'],
  'metadata.internal.test': ['169.254.169.254'],
  'mixed.internal.test': ['93.184.215.14', '10.0.0.7'],
  'receiver.example.test': ['93.184.215.14'],
};
const resolve = (host: string) => Promise.resolve(NAMES[host] ?? []);

const add = (t: ReturnType<typeof useTestApp>, url: string) => t.req('/v1/webhooks', { method: 'POST', json: { url } });

describe('webhook targets at add (default: public addresses only)', () => {
  const t = useTestApp({ deps: () => ({ webhookTargets: { allowPrivate: false, resolve } }), reset: 'once' });

  it.each([
    'http://127.0.0.1:6379/',
    'http://[::1]:8080/hook',
    'http://2130706433/', // 127.0.0.1 as one number: the URL parser normalises it
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0:8080/',
    'http://10.1.2.3/hook',
    'http://hooks.internal.test:9000/hook',
    'http://mixed.internal.test/hook',
    'http://nowhere.internal.test/hook',
    'http://user:pw@receiver.example.test/hook',
    'file:///etc/passwd',
  ])('refuses %s with 400 naming the url', async (url) => {
    const res = await add(t, url);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.issues?.[0]?.path).toBe('url');
  });

  it('accepts a name that resolves to a public address', async () => {
    expect((await add(t, 'https://receiver.example.test/hook')).status).toBe(200);
  });
});

describe('webhook targets at add with --webhook-allow-private', () => {
  const t = useTestApp({ deps: () => ({ webhookTargets: { allowPrivate: true, resolve } }), reset: 'once' });

  it('accepts loopback and private receivers, still never link-local or metadata', async () => {
    expect((await add(t, 'http://127.0.0.1:9000/hook')).status).toBe(200);
    expect((await add(t, 'http://hooks.internal.test:9000/hook')).status).toBe(200);
    expect((await add(t, 'http://10.1.2.3/hook')).status).toBe(200);
    expect((await add(t, 'http://169.254.169.254/')).status).toBe(400);
    expect((await add(t, 'http://metadata.internal.test/')).status).toBe(400);
    expect((await add(t, 'http://[fe80::1]/')).status).toBe(400);
  });
});
