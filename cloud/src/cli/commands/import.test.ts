/**
 * `lvsfleet import` end to end, in process: files read from disk (includes too), the spec on
 * stdout accepted by `lvsfleet validate`, diagnostics as FILE:LINE on stderr, exit codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateSite } from '#shared/site/validate.ts';
import { main } from '../main.ts';
import { memoryIO } from '../test-io.test-support.ts';

const KA = resolve(import.meta.dirname, '../../../../shared/keepalived/fixtures/import');
const IPVS = resolve(import.meta.dirname, '../../../../shared/ipvs/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], opts: { cwd?: string; stdin?: string } = {}) {
  const io = memoryIO({}, opts.stdin ?? '', opts.cwd ?? KA);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('lvsfleet import keepalived', () => {
  it("merges the seeds' two directors into a spec that lvsfleet validate accepts", async () => {
    const r = await cli([
      'import',
      'keepalived',
      'seed-000-dr-pair-fixed/dr1.conf',
      'seed-000-dr-pair-fixed/dr2.conf',
      '--site',
      'bj-dc1',
      '--address',
      'dr1=192.168.1.130',
      '--address',
      'dr2=192.168.1.131',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const site = parse(r.out);
    expect(validateSite(site).ok).toBe(true);
    expect(site.spec.vrrp[0].members).toEqual([
      { node: 'dr1', priority: 100, initialState: 'MASTER' },
      { node: 'dr2', priority: 90 },
    ]);
    writeFileSync(join(dir, 'imported.yaml'), r.out);
    const v = await cli(['validate', '-f', join(dir, 'imported.yaml')]);
    expect(v).toMatchObject({ code: 0, out: expect.stringContaining('ok: site bj-dc1, 2 nodes, 1 VRRP instances, 1 services') });
  });

  it('prints JSON with -o json', async () => {
    const r = await cli([
      'import',
      'keepalived',
      'seed-004-nginx-pair/master.conf',
      'seed-004-nginx-pair/backup.conf',
      '-o',
      'json',
      '--address',
      'master=192.168.2.101',
      '--address',
      'backup=192.168.2.102',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).spec.vrrpScripts[0]).toEqual({ name: 'check_http', script: '</dev/tcp/127.0.0.1/8001', interval: '2s', weight: -30 });
  });

  it('exits 2 on the seed with HTTP[_GET and unclosed braces, naming file, line and the likely keyword', async () => {
    const r = await cli(['import', 'keepalived', 'seed-000-dr1-broken/dr1.conf', '--address', 'dr1=1.1.1.1']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('seed-000-dr1-broken/dr1.conf:45: unknown keyword "HTTP[_GET" in real_server 192.168.1.132; did you mean HTTP_GET?');
    expect(r.err).toContain('seed-000-dr1-broken/dr1.conf:15: "vrrp_instance" block is never closed');
  });

  it("exits 2 and asks for --address when a director's address is not in its file", async () => {
    const r = await cli(['import', 'keepalived', 'seed-001-apache-pair/master.conf']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot tell the address of director "LVS_DEVEL" (no unicast_src_ip or mcast_src_ip): pass --address LVS_DEVEL=IP');
  });

  it('follows include globs relative to the including file', async () => {
    const r = await cli(['import', 'keepalived', join(KA, 'include-glob/keepalived.conf'), '--address', 'dr1=10.2.0.2'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(parse(r.out).spec.services.map((s: { name: string }) => s.name)).toEqual(['tcp-10.2.0.10-80', 'udp-10.2.0.10-53']);
  });

  it('exits 2 for bad flags and a missing file', async () => {
    expect((await cli(['import', 'keepalived'])).code).toBe(2);
    expect((await cli(['import', 'keepalived', 'x.conf', '-o', 'toml'])).code).toBe(2);
    expect((await cli(['import', 'keepalived', 'x.conf', '--address', 'nope'])).code).toBe(2);
    expect((await cli(['import', 'nginx', 'x.conf'])).code).toBe(2);
    const missing = await cli(['import', 'keepalived', 'no/such.conf', '--address', 'no=1.2.3.4']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no/such.conf: cannot read');
  });
});

describe('lvsfleet import ipvsadm', () => {
  it("reads the seeds' /etc/sysconfig/ipvsadm into one director's services", async () => {
    const r = await cli(['import', 'ipvsadm', join(IPVS, 'seed-002-sysconfig.rules'), '--node', 'lb', '--address', '10.10.10.215']);
    expect(r.code).toBe(0);
    const site = parse(r.out);
    expect(validateSite(site).ok).toBe(true);
    expect(site.spec.services[0].realServers).toEqual([
      { address: '10.10.10.216', port: 80, weight: 1 },
      { address: '10.10.10.217', port: 80, weight: 1 },
    ]);
  });

  it('reads stdin with "-" and exits 2 on the seed script with two commands on a line', async () => {
    const ok = await cli(['import', 'ipvsadm', '-', '--address', '10.0.0.2'], { stdin: '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.5:80 -g -w 1\n' });
    expect(ok.code).toBe(0);
    const bad = await cli(['import', 'ipvsadm', join(IPVS, 'seed-004-script.rules'), '--address', '172.16.1.10']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('seed-004-script.rules:3: a second "ipvsadm" command on the same line');
  });
});
