import { describe, expect, it } from 'vitest';
import { redactAddresses } from './redact.ts';

describe('redactAddresses', () => {
  it('replaces IPv4 and IPv6 addresses with their ports, and leaves times and names alone', () => {
    expect(redactAddresses('192.168.1.133:80 down since 2026-11-30T02:14:00Z (checked by dr1)')).toBe(
      '[address hidden] down since 2026-11-30T02:14:00Z (checked by dr1)',
    );
    expect(redactAddresses('vip 10.0.0.1/24 and 2001:db8::1 and [fd00::5]:443 and ::1 and 2001:db8:0:0:0:0:0:7')).toBe(
      'vip [address hidden] and [address hidden] and [address hidden] and [address hidden] and [address hidden]',
    );
    expect(redactAddresses('dr2 offline since 02:14:00, VI_1 VRID 50')).toBe('dr2 offline since 02:14:00, VI_1 VRID 50');
  });
});
