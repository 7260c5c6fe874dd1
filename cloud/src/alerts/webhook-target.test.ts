import { describe, expect, it } from 'vitest';
import { addressRefusal, classifyAddress } from './webhook-target.ts';

// Address literals only: nothing here connects anywhere.
describe('classifyAddress', () => {
  it.each([
    ['93.184.215.14', 'public'],
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['224.0.0.18', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('answers null for names and malformed literals', () => {
    for (const s of ['localhost', 'example.com', '1.2.3', '1.2.3.256', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9']) expect(classifyAddress(s)).toBeNull();
  });
});

describe('addressRefusal', () => {
  it('allows public addresses; loopback and private only with allowPrivate; link-local, metadata, unspecified and multicast never', () => {
    expect(addressRefusal('93.184.215.14', false)).toBeNull();
    expect(addressRefusal('127.0.0.1', false)).toMatch(/loopback.*--webhook-allow-private/);
    expect(addressRefusal('127.0.0.1', true)).toBeNull();
    expect(addressRefusal('10.0.0.1', true)).toBeNull();
    for (const ip of ['169.254.169.254', 'fd00:ec2::254', 'fe80::1', '0.0.0.0', '::', '224.0.0.1']) expect(addressRefusal(ip, true)).not.toBeNull();
  });
});
