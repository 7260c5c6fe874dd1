import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { useTestApp } from '../api/test-app.test-support.ts';
import { BROKEN_YAML, SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { events, nodeStatus } from '../db/schema.ts';
import { requireSite } from '../sites/queries.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-cli-'));
const seedsFile = join(dir, 'seeds.yaml');
writeFileSync(seedsFile, SEEDS_YAML);

const t = useTestApp({ listen: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `lvsfleet ARGS` in-process against the served app. */
async function cli(args: string[], opts: { as?: 'admin' | 'operator' | 'viewer' | null; stdin?: string; url?: string } = {}) {
  const as = opts.as === undefined ? 'admin' : opts.as;
  const io = memoryIO({ LVSFLEET_URL: opts.url ?? t.url, LVSFLEET_TOKEN: as ? t.tokens[as] : undefined }, opts.stdin ?? '', dir);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

function writeSpec(name: string, mutate: (s: ReturnType<typeof parseYaml>) => void): string {
  const spec = parseYaml(SEEDS_YAML);
  mutate(spec);
  const file = join(dir, name);
  writeFileSync(file, stringify(spec));
  return file;
}

describe('lvsfleet validate', () => {
  it('exits 0 for a valid spec, from a file or stdin', async () => {
    expect(await cli(['validate', '-f', seedsFile])).toMatchObject({ code: 0, out: expect.stringContaining('ok: site bj-dc1, 4 nodes') });
    expect((await cli(['validate', '-f', '-'], { stdin: SEEDS_YAML })).code).toBe(0);
  });

  it('exits 2 with FILE:LINE: path: message lines for an invalid spec', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, SEEDS_YAML.replace('vrid: 50', 'vrid: 300').replace('weight: 2', 'weight: -1'));
    const r = await cli(['validate', '-f', bad]);
    expect(r.code).toBe(2);
    const vridLine = SEEDS_YAML.split('\n').findIndex((l) => l.includes('vrid: 50')) + 1;
    expect(r.err).toContain(`${bad}:${vridLine}: spec.vrrp[0].vrid: `);
    expect(r.err).toMatch(/spec\.services\[0\]\.realServers\[0\]\.weight: /);
  });

  it('exits 2 with the line for broken YAML, for a missing file, a missing -f and an unknown flag', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, BROKEN_YAML);
    const r = await cli(['validate', '-f', broken]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^${broken}:\\d+: `));
    expect((await cli(['validate', '-f', join(dir, 'nope.yaml')])).err).toContain('cannot read');
    expect((await cli(['validate'])).code).toBe(2);
    const flag = await cli(['validate', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("Unknown option '--frobnicate'");
  });
});

describe('lvsfleet apply / diff', () => {
  it('applies, then says unchanged; --dry-run and diff write nothing', async () => {
    const dry = await cli(['apply', '-f', seedsFile, '--dry-run']);
    expect(dry).toMatchObject({ code: 0, out: expect.stringContaining('would store revision 1') });
    expect((await cli(['get', 'sites', '-o', 'json'])).out.trim()).toBe('[]');
    const first = await cli(['apply', '-f', seedsFile, '--message', 'seeds'], { as: 'operator' });
    expect(first.code).toBe(0);
    expect(first.out).toContain('bj-dc1: revision 1 stored (was 0); publishing to dr1, dr2, rs1, rs2');
    expect(first.out).toContain('+ service web');
    expect((await cli(['apply', '-f', seedsFile])).out).toBe('bj-dc1: unchanged at revision 1\n');
    const changed = writeSpec('rr.yaml', (s) => (s.spec.services[0].scheduler = 'rr'));
    const diff = await cli(['diff', '-f', changed]);
    expect(diff.code).toBe(0);
    expect(diff.out).toContain('~ service web\n~ config dr1\n~ config dr2');
    const json = JSON.parse((await cli(['diff', '-f', changed, '-o', 'json'])).out);
    expect(json).toMatchObject({ dryRun: true, revision: 1, publishedNodes: ['dr1', 'dr2'] });
    expect(JSON.parse((await cli(['get', 'sites', '-o', 'json'])).out)[0].revision).toBe(1);
  });

  it('exits 2 offline for an invalid spec and 1 for a refused mass delete, 0 with --force', async () => {
    const bad = writeSpec('bad-apply.yaml', (s) => (s.spec.vrrp[0].vrid = 0));
    const r = await cli(['apply', '-f', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('spec.vrrp[0].vrid');
    await cli(['apply', '-f', seedsFile]);
    const gutted = writeSpec('gutted.yaml', (s) => (s.spec.services[0].realServers = s.spec.services[0].realServers.slice(0, 1)));
    const refused = await cli(['apply', '-f', gutted]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('(mass_delete)');
    expect((await cli(['apply', '-f', gutted, '--force'])).code).toBe(0);
  });

  it('exits 1 with a hint for a stale --if-match, a viewer token, no token and an unreachable server', async () => {
    await cli(['apply', '-f', seedsFile]);
    const changed = writeSpec('lc.yaml', (s) => (s.spec.services[0].scheduler = 'lc'));
    expect((await cli(['apply', '-f', changed, '--if-match', '0'])).err).toContain('(stale_revision)');
    const viewer = await cli(['apply', '-f', changed], { as: 'viewer' });
    expect(viewer).toMatchObject({ code: 1, err: expect.stringContaining('(forbidden)') });
    const none = await cli(['apply', '-f', changed], { as: null });
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('set LVSFLEET_TOKEN') });
    const down = await cli(['get', 'sites'], { url: 'http://127.0.0.1:1' });
    expect(down).toMatchObject({ code: 1, err: expect.stringContaining('cannot reach http://127.0.0.1:1') });
  });
});

describe('lvsfleet get / status / enroll-token', () => {
  beforeEach(async () => {
    expect((await cli(['apply', '-f', seedsFile])).code).toBe(0);
  });

  it('get sites|nodes|services in table, json and yaml', async () => {
    const sites = await cli(['get', 'sites']);
    expect(sites.out).toMatch(/^NAME {4}REVISION {2}NODES {2}UPDATED\nbj-dc1 {2}1 {9}4 {6}\d{4}-/);
    const nodes = await cli(['get', 'nodes', '--site', 'bj-dc1'], { as: 'viewer' });
    expect(nodes.out.split('\n')[1]).toMatch(/^dr1 +director +192\.168\.1\.130 +1 +- +no$/);
    const services = JSON.parse((await cli(['get', 'services', '--site', 'bj-dc1', '-o', 'json'])).out);
    expect(services[0]).toMatchObject({ name: 'web', vip: '192.168.1.150', scheduler: 'wlc' });
    const yaml = parseYaml((await cli(['get', 'nodes', '--site', 'bj-dc1', '-o', 'yaml'])).out);
    expect(yaml.map((n: { name: string }) => n.name)).toEqual(['dr1', 'dr2', 'rs1', 'rs2']);
    expect((await cli(['get', 'services', '--site', 'bj-dc1'])).out).toContain('192.168.1.150:80  tcp    wlc    dr   192.168.1.132:80(w2)');
  });

  it('get exits 2 for a missing kind, missing --site or a bad -o; 1 for an unknown site', async () => {
    expect((await cli(['get'])).code).toBe(2);
    expect((await cli(['get', 'nodes'])).code).toBe(2);
    expect((await cli(['get', 'sites', '-o', 'xml'])).code).toBe(2);
    const missing = await cli(['get', 'nodes', '--site', 'nope']);
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('(not_found)') });
  });

  it('status shows every site, or one, as a table or json', async () => {
    const all = await cli(['status']);
    expect(all.code).toBe(0);
    // No node has ever reported: the cloud cannot see the site, and says so.
    expect(all.out).toMatch(/^site bj-dc1 {2}UNKNOWN since \S+ {2}revision 1$/m);
    expect(all.out).toMatch(/dr1 +director +offline +1 +- +no +- +dr1 has never reported/);
    expect(all.out).toContain('never_reported       bj-dc1: no director has ever reported');
    expect((await cli(['status', '--exit-code'])).code).toBe(3);
    const one = JSON.parse((await cli(['status', 'bj-dc1', '-o', 'json'])).out);
    expect(one).toMatchObject({ site: 'bj-dc1', revision: 1 });
    expect(one.nodes).toHaveLength(4);
    expect((await cli(['status', 'nope'])).code).toBe(1);
  });

  it('status shows a split brain in PROBLEMS and exits 3 with --exit-code', async () => {
    const report = (n: string) => ({
      nodeId: `bj-dc1.${n}`,
      online: true,
      appliedRevision: 1,
      status: { appliedRevision: 1, vrrp: [{ instance: 'VI_1', vrid: 50, state: 'MASTER', priority: 100, effectivePriority: 100 }] },
    });
    await t.db.db
      .insert(nodeStatus)
      .values([report('dr1'), report('dr2'), { ...report('rs1'), status: { appliedRevision: 1 } }, { ...report('rs2'), status: { appliedRevision: 1 } }]);
    const r = await cli(['status', 'bj-dc1', '--exit-code']);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^site bj-dc1 {2}MAJOR_OUTAGE/);
    expect(r.out).toMatch(/dr1 +director +online .*VI_1=MASTER +dr1 and dr2 are both MASTER for VI_1 \(VRID 50\)/);
    expect(r.out).toContain('split_brain          dr1 and dr2 are both MASTER for VI_1 (VRID 50)');
    expect((await cli(['status', 'bj-dc1'])).code).toBe(0); // without --exit-code, a report is a success
  });

  it('webhook test, deliveries and redeliver', async () => {
    const add = await cli(['webhook', 'add', 'https://hooks.example.com/hook', '--min-severity', 'warning', '--site', 'bj-dc1']);
    expect(add.out).toContain('all events, warning and up');
    const id = /webhook (\S+) →/.exec(add.out)![1];
    expect((await cli(['webhook', 'deliveries', id])).out).toBe(`no deliveries for webhook ${id} yet\n`);
    expect((await cli(['webhook', 'test', id])).out).toMatch(/^test event queued as msg_\w+; see: lvsfleet webhook deliveries /);
    const site = await requireSite(t.db.db, 'default', 'bj-dc1');
    const [e] = await t.db.db
      .insert(events)
      .values({
        siteId: site.id,
        nodeId: null,
        type: 'site.no_master',
        data: { key: 'site.no_master|vrrp:VI_1', severity: 'critical', summary: 'VI_1: no director is MASTER' },
        at: new Date(),
      })
      .returning();
    expect((await cli(['webhook', 'redeliver', id, String(e.id)])).out).toMatch(new RegExp(`^event ${e.id} queued again as msg_`));
    const list = await cli(['webhook', 'deliveries', id]);
    expect(list.out.split('\n')[0]).toMatch(/^DELIVERY +EVENT +TYPE +STATUS +CODE +ATTEMPTS +NEXT RETRY +LAST ERROR$/);
    expect(list.out).toMatch(new RegExp(`msg_\\w+ +${e.id} +site.no_master +pending +- +0 +\\d{4}-`));
    expect(list.out).toMatch(/msg_\w+ +test +webhook.test +pending/);
    expect((await cli(['webhook', 'redeliver', id, '999999'])).code).toBe(1);
    expect((await cli(['webhook', 'redeliver', id])).code).toBe(2);
    expect((await cli(['webhook', 'add', 'http://x', '--min-severity', 'loud'])).code).toBe(2);
  });

  it('enroll-token prints a token and the agent command; exits 2 without --node, 1 for an unknown node', async () => {
    const r = await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr1'], { as: 'operator' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^token: {3}lve_\S+\nexpires: \S+\non dr1: lvsfleet-agent enroll --url http:\/\/127\.0\.0\.1:\d+ --token lve_/);
    const json = JSON.parse((await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr2', '-o', 'json', '--ttl', '600'])).out);
    expect(Date.parse(json.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    expect((await cli(['enroll-token', '--site', 'bj-dc1'])).code).toBe(2);
    expect((await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'zz'])).code).toBe(1);
  });

  it('an unknown command exits 2', async () => {
    expect((await cli(['frob'])).code).toBe(2);
  });
});
