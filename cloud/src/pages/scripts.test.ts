import { describe, expect, it } from 'vitest';
import { DASHBOARD_SCRIPT } from './dashboard.ts';
import { STATUS_SCRIPT } from './status-page.ts';
import { formatHostPort } from '#shared/util/ip.ts';
import { nameList } from '#shared/util/name-list.ts';

/** The browser scripts are strings in TypeScript: a syntax error (or a regex escape the template literal ate) shows here, before any browser run. */
describe('page scripts', () => {
  it('parse as JavaScript', () => {
    expect(() => new Function(DASHBOARD_SCRIPT)).not.toThrow();
    expect(() => new Function(STATUS_SCRIPT)).not.toThrow();
  });

  it("keep the dashboard's time pattern's escapes", () => {
    expect(DASHBOARD_SCRIPT).toContain(String.raw`/(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?Z/g`);
  });
});

describe('the dashboard prints endpoints with the shared formatter', () => {
  it('ships formatHostPort itself: IPv6 in brackets, IPv4 as it is', () => {
    expect(DASHBOARD_SCRIPT).toContain(`const hostPort = ${formatHostPort.toString()};`);
    const hostPort = new Function(`return ${formatHostPort.toString()}`)() as typeof formatHostPort;
    expect([hostPort('2001:db8::10', 80), hostPort('10.0.0.1', 80)]).toEqual(['[2001:db8::10]:80', '10.0.0.1:80']);
  });
});

describe("the dashboard names a stage's nodes as the events do", () => {
  it('ships nameList itself: eight names, then how many more', () => {
    expect(DASHBOARD_SCRIPT).toContain(`const nameList = ${nameList.toString()};`);
    const shipped = new Function(`return ${nameList.toString()}`)() as typeof nameList;
    const names = Array.from({ length: 12 }, (_, i) => `rs${i + 1}`);
    expect([shipped(names.slice(0, 2)), shipped(names)]).toEqual(['rs1, rs2', 'rs1, rs2, rs3, rs4, rs5, rs6, rs7, rs8 and 4 more']);
  });
});
