import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { formatSelected, parseJsonPath, selectJsonPath } from './jsonpath.ts';

const services = [
  { name: 'web', port: 80, realServers: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }] },
  { name: 'dns', port: 53, realServers: [{ address: '10.0.0.3' }] },
];
const select = (expr: string) => selectJsonPath(services, parseJsonPath(expr));

describe('get -o jsonpath', () => {
  it('selects members, elements, wildcards and descendants', () => {
    expect(select('$[*].name')).toEqual(['web', 'dns']);
    expect(select('{$[0].port}')).toEqual([80]);
    expect(select('$[-1].name')).toEqual(['dns']);
    expect(select("$[1]['name']")).toEqual(['dns']);
    expect(select('$[*].realServers[*].address')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(select('$..address')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(select('$[0].*')).toEqual(['web', 80, services[0].realServers]);
    expect(select('$[5].name')).toEqual([]);
    expect(select('$')).toEqual([services]);
  });

  it('prints strings bare and the rest as JSON, one per line', () => {
    expect(formatSelected(['a', 1, { b: 2 }])).toBe('a\n1\n{"b":2}\n');
    expect(formatSelected([])).toBe('');
  });

  it('refuses what it does not support, saying where', () => {
    expect(() => parseJsonPath('$[?(@.port>1)]')).toThrow(UsageError);
    expect(() => parseJsonPath('$[0')).toThrow(/a "\[" without "\]"/);
    expect(() => parseJsonPath('$.')).toThrow(/expected a member name/);
    expect(() => parseJsonPath('$ name')).toThrow(/expected "\.", "\.\." or "\["/);
  });
});
