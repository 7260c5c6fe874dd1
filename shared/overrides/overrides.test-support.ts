import type { Override } from './override.ts';

const base = { author: 'alice', reason: 'maintenance', createdAt: '2026-01-01T00:00:00.000Z', until: '2026-01-01T01:00:00.000Z' };
let n = 0;

/** An override with defaults for the fields a test does not care about. */
export function override<K extends Override['kind']>(kind: K, fields: Partial<Extract<Override, { kind: K }>> = {}): Extract<Override, { kind: K }> {
  const d: Record<Override['kind'], object> = {
    'drain-realserver': { service: null, address: '192.168.1.132', port: null, node: 'rs1' },
    'drain-director': { node: 'dr1' },
    'maintenance-director': { node: 'dr1' },
    failover: { instance: 'VI_1', node: 'dr2' },
    'disable-service': { service: 'web' },
  };
  return { id: `ovr_${++n}`, kind, ...base, ...d[kind], ...fields } as Extract<Override, { kind: K }>;
}
