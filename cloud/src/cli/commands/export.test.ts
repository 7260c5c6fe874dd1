/**
 * `lvsfleet export` end to end: offline from --spec, and from the API (a real HTTP server on
 * 127.0.0.1 serving the app over PGlite, or PostgreSQL with DATABASE_URL) with --site.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../../api/test-app.test-support.ts';
import { SEEDS_YAML } from '../../../test/fixtures.test-support.ts';
import { main } from '../main.ts';
import { memoryIO } from '../test-io.test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-export-'));
const seeds = join(dir, 'seeds.yaml');
writeFileSync(seeds, SEEDS_YAML);
const t = useTestApp({ listen: true, reset: 'once' });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const io = memoryIO(env, '', dir);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('lvsfleet export keepalived', () => {
  it("writes a director's keepalived.conf from a spec file", async () => {
    const r = await cli(['export', 'keepalived', '--spec', seeds, '--node', 'dr2']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 50\n    priority 90\n');
    expect(r.out).toContain('virtual_server 192.168.1.150 80 {');
    expect(r.out).toContain('    real_server 192.168.1.132 80 {\n        weight 2\n');
  });

  it('reads the current spec from the API with --site; below admin scope the VRRP password is redacted', async () => {
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
    const env = { LVSFLEET_URL: t.url, LVSFLEET_TOKEN: t.tokens.viewer };
    const fromApi = await cli(['export', 'keepalived', '--site', 'bj-dc1', '--node', 'dr1'], { ...env, LVSFLEET_TOKEN: t.tokens.admin });
    // The seeds are a pair: the one thing keepalived cannot carry is the default BFD session's takeover.
    expect(fromApi.err).toBe(
      'warning: BFD pair-dr1-dr2 (the default pair session): keepalived has no BFD peer-down takeover; left out, so a crashed master is seen after the advert timeout\n',
    );
    expect(fromApi.code).toBe(0);
    const offline = await cli(['export', 'keepalived', '--spec', seeds, '--node', 'dr1']);
    expect(fromApi.out).toBe(offline.out);
    const asViewer = await cli(['export', 'keepalived', '--site', 'bj-dc1', '--node', 'dr1'], env);
    expect(asViewer.out).toContain('auth_pass ********');
    expect(asViewer.out).not.toContain('1111');
    const missing = await cli(['export', 'keepalived', '--site', 'nope', '--node', 'dr1'], env);
    expect(missing.code).toBe(2);
    const noToken = await cli(['export', 'keepalived', '--site', 'bj-dc1', '--node', 'dr1'], { LVSFLEET_URL: t.url });
    expect(noToken.code).toBe(1);
  });

  it('writes --out atomically', async () => {
    const out = join(dir, 'dr1.conf');
    const r = await cli(['export', 'keepalived', '--spec', seeds, '--node', 'dr1', '--out', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('router_id dr1');
    expect(existsSync(`${out}.tmp`)).toBe(false);
  });

  it('exits 2 for a real server, an unknown node, an invalid spec or bad flags', async () => {
    expect((await cli(['export', 'keepalived', '--spec', seeds, '--node', 'rs1'])).err).toContain('only directors run keepalived');
    expect((await cli(['export', 'keepalived', '--spec', seeds, '--node', 'rs1'])).code).toBe(2);
    expect((await cli(['export', 'keepalived', '--spec', seeds, '--node', 'zz'])).code).toBe(2);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, SEEDS_YAML.replace('vrid: 50', 'vrid: 300'));
    const r = await cli(['export', 'keepalived', '--spec', bad, '--node', 'dr1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('spec.vrrp[0].vrid');
    expect((await cli(['export', 'keepalived', '--node', 'dr1'])).code).toBe(2);
    expect((await cli(['export', 'keepalived', '--spec', seeds, '--site', 'x', '--node', 'dr1'])).code).toBe(2);
    expect((await cli(['export', 'haproxy', '--spec', seeds, '--node', 'dr1'])).code).toBe(2);
    expect((await cli(['export', 'keepalived', '--spec', join(dir, 'missing.yaml'), '--node', 'dr1'])).code).toBe(2);
  });
});

describe('lvsfleet export ipvsadm', () => {
  it('writes the rules the agent programs and says what acts at run time instead', async () => {
    const r = await cli(['export', 'ipvsadm', '--spec', seeds, '--node', 'dr1']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      '-A -t 192.168.1.150:80 -s wlc -p 50\n' +
        '-a -t 192.168.1.150:80 -r 192.168.1.132:80 -g -w 2\n' +
        '-a -t 192.168.1.150:80 -r 192.168.1.133:80 -g -w 1\n' +
        '-a -t 192.168.1.150:80 -r 192.168.1.113:80 -g -w 1\n',
    );
    expect(r.err).toContain('warning: service web: healthCheck, sorryServer act at run time, not in IPVS rules; shown with every real server up');
  });
});
