/**
 * Every exported keepalived.conf passes Debian's `keepalived -t -f FILE` (exit 0, which
 * keepalived gives only when it has nothing to warn about): generated specs (fast-check),
 * and every fixture that imports, re-rendered on this host's interfaces (keepalived -t
 * insists that interfaces exist and refuses `lo` for VRRP).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Site } from '../site/site.ts';
import { renderKeepalived } from './render.ts';
import { arbSite } from './arb-site.test-support.ts';

function findKeepalived(): string | null {
  for (const p of ['/usr/sbin/keepalived', '/sbin/keepalived', '/usr/local/sbin/keepalived']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
const KEEPALIVED = findKeepalived();
// keepalived -t needs existing, non-loopback interfaces.
const IFACES = existsSync('/sys/class/net')
  ? readdirSync('/sys/class/net')
      .filter((n) => n !== 'lo')
      .sort()
  : [];
const skipReason = !KEEPALIVED ? 'keepalived is not installed' : IFACES.length === 0 ? 'no non-loopback network interface for keepalived -t' : null;
if (skipReason) console.log(`render.test.ts: keepalived -t tests skipped: ${skipReason}`);

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-kt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** Runs keepalived -t on the text; returns its exit status and output. */
function configTest(text: string): { status: number | null; output: string } {
  const file = join(dir, `k${count++}.conf`);
  writeFileSync(file, text);
  const r = spawnSync(KEEPALIVED!, ['-t', '-f', file, '-l', '-n'], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Moves a fixture's site onto this host's interfaces (labels follow, self-tracking dropped). */
function onHostInterfaces(site: Site): Site {
  const s = structuredClone(site);
  const if0 = IFACES[0];
  for (const n of s.spec.nodes) if (n.interface) n.interface = if0;
  for (const i of s.spec.vrrp ?? []) {
    delete i.interface;
    for (const m of i.members) delete m.interface;
    const fix = (v: (typeof i.vips)[number]) =>
      typeof v === 'string' ? v : { ...v, ...(v.interface ? { interface: if0 } : {}), ...(v.label ? { label: `${if0}:${v.label.split(':')[1] ?? '0'}` } : {}) };
    i.vips = i.vips.map(fix);
    if (i.excludedVips) i.excludedVips = i.excludedVips.map(fix);
    if (i.trackInterfaces) i.trackInterfaces = IFACES[1] ? [{ ...i.trackInterfaces[0], interface: IFACES[1] }] : undefined;
    if (!i.trackInterfaces) delete i.trackInterfaces;
    // keepalived checks that notify scripts exist and are safe: use one that does.
    if (i.notify) i.notify = Object.fromEntries(Object.keys(i.notify).map((k) => [k, '/bin/true']));
  }
  for (const g of s.spec.syncGroups ?? []) if (g.notify) g.notify = Object.fromEntries(Object.keys(g.notify).map((k) => [k, '/bin/true']));
  for (const sc of s.spec.vrrpScripts ?? []) {
    sc.script = '/bin/true';
    if (sc.user) sc.user = 'root';
  }
  for (const svc of s.spec.services ?? []) {
    for (const k of ['quorumUp', 'quorumDown'] as const) if (svc[k]) svc[k] = '/bin/true';
    for (const rs of svc.realServers) for (const k of ['notifyUp', 'notifyDown'] as const) if (rs[k]) rs[k] = '/bin/true';
    for (const hc of [svc.healthCheck, ...svc.realServers.map((r) => r.healthCheck)])
      if (hc?.type === 'misc') {
        hc.command = '/bin/true';
        delete hc.user;
      }
  }
  if (s.spec.connectionSync) s.spec.connectionSync.interface = if0;
  return s;
}

const FIXTURES = resolve(import.meta.dirname, 'fixtures/import');
const GOLDEN = readdirSync(FIXTURES)
  .filter((c) => existsSync(join(FIXTURES, c, 'expected.yaml')))
  .sort();

describe.skipIf(!!skipReason)('keepalived -t accepts exported files', () => {
  it('for generated specs', () => {
    fc.assert(
      fc.property(arbSite(IFACES, { ipv6: true }), (site) => {
        for (const n of site.spec.nodes) {
          const { text } = renderKeepalived(site, n.name);
          const r = configTest(text);
          expect(r.status, `${r.output}\n${text}`).toBe(0);
        }
      }),
      { numRuns: Number(process.env.KT_RUNS ?? 40) },
    );
  }, 120_000);

  for (const c of GOLDEN) {
    it(`for fixture ${c}`, () => {
      const site = onHostInterfaces(parse(readFileSync(join(FIXTURES, c, 'expected.yaml'), 'utf8')) as Site);
      for (const n of site.spec.nodes.filter((x) => x.role === 'director')) {
        const { text } = renderKeepalived(site, n.name);
        const r = configTest(text);
        // keepalived warns about a VRRPv2 instance without VIPs, in the original file as in the
        // export (exit 5, config warnings): that warning is expected, and nothing else.
        const noVip = (site.spec.vrrp ?? []).filter((i) => i.vips.length === 0 && i.members.some((m) => m.node === n.name));
        if (noVip.length === 0) expect(r.status, `${r.output}\n${text}`).toBe(0);
        else {
          const expected = new Set(noVip.map((i) => `(${i.name}) No VIP specified; at least one is sensible`));
          expect(new Set(r.output.split('\n').filter((l) => l.trim())), text).toEqual(expected);
        }
      }
    });
  }

  it('keepalived -t does fail on a broken file (the check can fail)', () => {
    const r = configTest('vrrp_instance VI_1 {\n    interface nosuch0\n    virtual_router_id 1\n}\n');
    expect(r.status).not.toBe(0);
  });
});
