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
    // The seeds still use nb_get_retry in HTTP_GET, which keepalived reads with a deprecation warning.
    expect(r.err.split('\n').filter(Boolean)).toEqual(
      ['dr1.conf:48', 'dr1.conf:64', 'dr2.conf:48', 'dr2.conf:64'].map(
        (at) => `seed-000-dr-pair-fixed/${at}: warning: nb_get_retry is deprecated in keepalived; read as retry`,
      ),
    );
    expect(r.code).toBe(0);
    const site = parse(r.out);
    expect(validateSite(site).ok).toBe(true);
    expect(site.spec.vrrp[0].members).toEqual([
      { node: 'dr1', priority: 100, initialState: 'MASTER' },
      { node: 'dr2', priority: 90 },
    ]);
    writeFileSync(join(dir, 'imported.yaml'), r.out);
    const v = await cli(['validate', '-f', join(dir, 'imported.yaml')]);
    expect(v).toMatchObject({ code: 0, out: expect.stringContaining('ok: site bj-dc1, 2 nodes, 1 VRRP instance, 1 service') });
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
  });

  it('reports a missing file the same way for both kinds: FILE: cannot read: REASON, exit 2, nothing on stdout', async () => {
    const keepalived = await cli(['import', 'keepalived', 'no/such.conf', '--address', 'no=1.2.3.4']);
    const ipvsadm = await cli(['import', 'ipvsadm', 'no/such.rules', '--address', '1.2.3.4']);
    expect(keepalived).toEqual({ code: 2, out: '', err: 'no/such.conf: cannot read: no such file or directory\n' });
    expect(ipvsadm).toEqual({ code: 2, out: '', err: 'no/such.rules: cannot read: no such file or directory\n' });
    // A directory is not a file either, for both.
    const dirK = await cli(['import', 'keepalived', 'include-glob', '--address', 'x=1.2.3.4']);
    const dirI = await cli(['import', 'ipvsadm', 'include-glob', '--address', '1.2.3.4']);
    expect([dirK.code, dirI.code]).toEqual([2, 2]);
    expect(dirK.err).toBe('include-glob: cannot read: illegal operation on a directory\n');
    expect(dirI.err).toBe(dirK.err);
  });
});

describe('lvsfleet import help and keepalived options', () => {
  it('prints help for import --help, import -h and import keepalived --help', async () => {
    for (const args of [
      ['import', '--help'],
      ['import', '-h'],
      ['import', 'keepalived', '--help'],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      expect(r.out).toContain('  lvsfleet import keepalived FILE…');
    }
    const sub = await cli(['import', 'keepalived', '--help']);
    expect(sub.out).toContain('--strict');
    expect(sub.out).toContain('--config-id ID');
    expect((await cli(['import', '--help'])).out).toMatch(/^ {2}ipvsadm +ipvsadm -S/m);
  });

  it('imports what keepalived tolerates with a warning, and refuses it with --strict', async () => {
    const args = ['import', 'keepalived', 'as-keepalived-state-slave/dr1.conf', '--address', 'dr1=10.29.0.2'];
    const lenient = await cli(args);
    expect(lenient.code).toBe(0);
    expect(lenient.err).toContain('as-keepalived-state-slave/dr1.conf:6: warning: unknown state "SLAVE": keepalived runs the instance as BACKUP');
    expect(parse(lenient.out).spec.vrrp[0].members).toEqual([{ node: 'dr1', priority: 90 }]);
    const strict = await cli([...args, '--strict']);
    expect(strict.code).toBe(2);
    expect(strict.out).toBe('');
    expect(strict.err).toContain('as-keepalived-state-slave/dr1.conf:6: unknown state "SLAVE": keepalived runs the instance as BACKUP');
  });

  it('reads the @ID lines of --config-id, and asks for it when a file has some', async () => {
    const file = 'as-keepalived-config-id/dr1.conf';
    const lb1 = await cli(['import', 'keepalived', file, '--config-id', 'lb1']);
    expect(lb1.code).toBe(0);
    const site = parse(lb1.out);
    expect(site.spec.nodes[0]).toMatchObject({ name: 'lb1', address: '10.32.0.2' });
    expect(site.spec.vrrp[0].members).toEqual([{ node: 'lb1', priority: 150, initialState: 'MASTER' }]);
    const none = await cli(['import', 'keepalived', file]);
    expect(none.code).toBe(2);
    expect(none.err).toContain(
      `${file}:4: conditional line @lb1: keepalived picks these lines by its config id (-i, by default the host name); pass --config-id ID`,
    );
    expect((await cli(['import', 'ipvsadm', 'x.rules', '--strict'])).code).toBe(2);
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
