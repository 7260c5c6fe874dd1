import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { useTestApp } from '../api/test-app.test-support.ts';
import { BROKEN_YAML, SEEDS_YAML } from '../../test/fixtures.test-support.ts';
import { eq } from 'drizzle-orm';
import { apiTokens, events, nodeStatus, webhookDeliveries } from '../db/schema.ts';
import { requireSite } from '../sites/queries.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';
import { checkSpec } from './spec-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-cli-'));
const seedsFile = join(dir, 'seeds.yaml');
writeFileSync(seedsFile, SEEDS_YAML);

const t = useTestApp({ listen: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `lvsfleet ARGS` in-process against the served app. */
async function cli(
  args: string[],
  opts: { as?: 'admin' | 'operator' | 'viewer' | null; stdin?: string; url?: string; env?: Record<string, string | undefined>; tty?: boolean } = {},
) {
  const as = opts.as === undefined ? 'admin' : opts.as;
  const io = memoryIO({ LVSFLEET_URL: opts.url ?? t.url, LVSFLEET_TOKEN: as ? t.tokens[as] : undefined, ...opts.env }, opts.stdin ?? '', dir);
  // main wraps stdout in the terminal filter and passes the raw one on as stdoutStyled.
  if (opts.tty) io.isTTY = true;
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
    expect(diff.out).toContain('~ service web\n    scheduler: wlc → rr\n~ config dr1\n    services.web.scheduler: wlc → rr\n~ config dr2\n');
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

  it("sends the file's value as JSON; a refusal naming a field prints the file's line of it", async () => {
    // The server's issues name paths; the body was JSON made from the YAML, whose lines are not the file's.
    const scripted = writeSpec('scripted.yaml', (s) => (s.spec.services[0].healthCheck = { type: 'misc', command: '/etc/lvsfleet/scripts/check-web' }));
    const text = readFileSync(scripted, 'utf8');
    const commandLine = text.split('\n').findIndex((l) => l.includes('command: /etc/lvsfleet/scripts/check-web')) + 1;
    expect(commandLine).toBeGreaterThan(1);
    const r = await cli(['apply', '-f', scripted], { as: 'operator' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('(forbidden)');
    expect(r.err).toContain(`${scripted}:${commandLine}: spec.services[0].healthCheck.command: `);
    const checked = checkSpec({ name: scripted, text }, memoryIO({}, '', dir));
    expect(JSON.parse(checked!.json())).toEqual(parseYaml(text));
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
    expect((await cli(['status', 'bj-dc1', '--exit-code', '-o', 'xml'])).code).toBe(2);
    expect((await cli(['status', 'a', 'b', '--exit-code'])).code).toBe(2);
    expect((await cli(['status', 'nope', '--exit-code'])).code).toBe(1);
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
    // Both go out first: the test because someone watches for it, the redelivery as the critical event it carries.
    const queued = await t.db.db
      .select({ eventId: webhookDeliveries.eventId, priority: webhookDeliveries.priority })
      .from(webhookDeliveries)
      .orderBy(webhookDeliveries.eventId);
    expect(queued).toEqual([
      { eventId: 0, priority: 0 },
      { eventId: e.id, priority: 0 },
    ]);
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

describe('lvsfleet diff --exit-code, colour', () => {
  it('exits 0 without changes, 3 with changes, 1 on an error (invalid file, server refusal or down)', async () => {
    expect((await cli(['diff', '-f', seedsFile, '--exit-code'])).code).toBe(3); // a new site is a change
    await cli(['apply', '-f', seedsFile]);
    expect(await cli(['diff', '-f', seedsFile, '--exit-code'])).toMatchObject({ code: 0, out: 'bj-dc1: unchanged at revision 1\n' });
    const weight = writeSpec('weight.yaml', (s) => (s.spec.services[0].realServers[1].weight = 5));
    const changed = await cli(['diff', '-f', weight, '--exit-code']);
    expect(changed.code).toBe(3);
    expect(changed.out).toContain('~ service web\n    realServers.rs2:80.weight: 1 → 5\n');
    expect((await cli(['diff', '-f', weight])).code).toBe(0); // without --exit-code, a diff is a success
    const bad = writeSpec('bad-diff.yaml', (s) => (s.spec.vrrp[0].vrid = 0));
    expect((await cli(['diff', '-f', bad, '--exit-code'])).code).toBe(1);
    expect((await cli(['diff', '-f', bad])).code).toBe(2);
    expect((await cli(['diff', '-f', weight, '--exit-code'], { as: null })).code).toBe(1);
    expect((await cli(['diff', '-f', weight, '--exit-code'], { url: 'http://127.0.0.1:1' })).code).toBe(1);
  });

  it("colours on a terminal only, never with NO_COLOR, and never passes the server's own escapes", async () => {
    await cli(['apply', '-f', seedsFile]);
    const rr = writeSpec('rr-colour.yaml', (s) => (s.spec.services[0].scheduler = 'rr'));
    const tty = await cli(['diff', '-f', rr], { tty: true });
    expect(tty.out).toContain('\x1b[33m~ service web\x1b[0m\n\x1b[2m    scheduler: wlc → rr\x1b[0m');
    expect((await cli(['diff', '-f', rr], { tty: true, env: { NO_COLOR: '1' } })).out).not.toContain('\x1b');
    expect((await cli(['diff', '-f', rr])).out).not.toContain('\x1b');
    const sneaky = writeSpec('sneaky.yaml', (s) => {
      s.spec.services[0].scheduler = 'rr';
      s.metadata.labels = { note: 'x\x1b]0;pwned\x07' };
    });
    const r = await cli(['diff', '-f', sneaky], { tty: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain('\x1b[2m    metadata.labels: + {"note":"x"}\x1b[0m');
    expect(r.out).not.toContain('\x1b]0;');
  });
});

describe('lvsfleet get -o, validate -o json', () => {
  beforeEach(async () => {
    expect((await cli(['apply', '-f', seedsFile])).code).toBe(0);
  });

  it('get -o wide adds columns, -o name prints kind/name, -o jsonpath selects', async () => {
    const wide = await cli(['get', 'nodes', '--site', 'bj-dc1', '-o', 'wide']);
    expect(wide.out.split('\n')[0]).toMatch(/^NAME +ROLE +ADDRESS +DESIRED +APPLIED +ONLINE +IN SYNC +LAST SEEN +NODE ID$/);
    expect(wide.out).toMatch(/^dr1 +director +192\.168\.1\.130 +1 +- +no +no +- +bj-dc1\.dr1$/m);
    expect((await cli(['get', 'services', '--site', 'bj-dc1', '-o', 'wide'])).out).toMatch(/DIRECTORS\nweb .* dr1,dr2\n$/);
    expect((await cli(['get', 'nodes', '--site', 'bj-dc1', '-o', 'name'])).out).toBe('node/dr1\nnode/dr2\nnode/rs1\nnode/rs2\n');
    expect((await cli(['get', 'sites', '-o', 'name'])).out).toBe('site/bj-dc1\n');
    const jp = await cli(['get', 'services', '--site', 'bj-dc1', '-o', 'jsonpath=$[*].realServers[*].address']);
    expect(jp).toMatchObject({ code: 0, out: '192.168.1.132\n192.168.1.133\n192.168.1.113\n' });
    expect((await cli(['get', 'nodes', '--site', 'bj-dc1', '-o', 'jsonpath={$[0]}'])).out).toMatch(/^\{"nodeId":"bj-dc1\.dr1",/);
    expect(await cli(['get', 'sites', '-o', 'jsonpath=$[?(@.x)]'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('filters and slices are not supported'),
    });
    expect((await cli(['get', 'sites', '-o', 'jsonpath='])).code).toBe(2);
  });

  it('validate -o json: a document on stdout, exit 0 or 2', async () => {
    const ok = await cli(['validate', '-f', seedsFile, '-o', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual({ file: seedsFile, valid: true, site: 'bj-dc1', nodes: 4, vrrpInstances: 1, services: 1, issues: [] });
    const bad = join(dir, 'bad-json.yaml');
    writeFileSync(bad, SEEDS_YAML.replace('vrid: 50', 'vrid: 300'));
    const r = await cli(['validate', '-f', bad, '-o', 'json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ file: bad, valid: false });
    expect(doc.issues[0]).toMatchObject({ path: 'spec.vrrp[0].vrid', line: SEEDS_YAML.split('\n').findIndex((l) => l.includes('vrid: 50')) + 1 });
    expect(doc.issues[0].message).not.toMatch(/^line /);
    expect((await cli(['validate', '-f', seedsFile, '-o', 'xml'])).code).toBe(2);
    expect((await cli(['validate', '-f', seedsFile])).out).toBe(`${seedsFile}: ok: site bj-dc1, 4 nodes, 1 VRRP instance, 1 service\n`);
  });
});

describe('lvsfleet token, audit, --url/--token flags', () => {
  it('token create, list, revoke; a revoked or expired token is refused', async () => {
    const made = await cli(['token', 'create', 'ci', '--scope', 'operator', '--expires', '30d']);
    expect(made.code).toBe(0);
    const [, id, expires] = /^token (\S+) \(operator, expires (\S+)\); the secret is shown once:\n/.exec(made.out)!;
    const secret = made.out.trim().split('\n')[1];
    expect(Date.parse(expires) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    // The new token works, given by flag; --url may come before the command.
    const withFlag = await cli(['--url', t.url, 'get', 'sites', '--token', secret], { as: null, url: 'http://127.0.0.1:1' });
    expect(withFlag.code).toBe(0);
    const list = await cli(['token', 'list']);
    expect(list.out.split('\n')[0]).toMatch(/^ID +NAME +SCOPE +STATE +CREATED +EXPIRES +LAST USED$/);
    expect(list.out).toMatch(new RegExp(`^${id} +ci +operator +active +\\S+ +${expires.replace(/\./g, '\\.')} +\\d{4}-`, 'm'));
    expect((await cli(['token', 'revoke', id])).out).toBe(`token ${id} revoked\n`);
    expect((await cli(['token', 'list', '-o', 'json'])).out).toContain('"revokedAt": "');
    expect(await cli(['get', 'sites', '--token', secret], { as: null })).toMatchObject({ code: 1, err: expect.stringContaining('unknown or revoked token') });
    expect((await cli(['token', 'revoke', id])).code).toBe(1); // already revoked: not found

    const short = JSON.parse((await cli(['token', 'create', 'short', '--scope', 'viewer', '--expires', '1m', '-o', 'json'])).out);
    await t.db.db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, short.id));
    expect(await cli(['get', 'sites', '--token', short.token], { as: null })).toMatchObject({ code: 1, err: expect.stringContaining('(unauthorized)') });
    expect((await cli(['token', 'list'])).out).toMatch(new RegExp(`^${short.id} +short +viewer +expired `, 'm'));
  });

  it('token exits 2 for bad input and 1 below admin scope', async () => {
    expect((await cli(['token', 'create', 'x'])).code).toBe(2);
    expect((await cli(['token', 'create', 'x', '--scope', 'root'])).code).toBe(2);
    expect(await cli(['token', 'create', 'x', '--scope', 'viewer', '--expires', '30'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--expires takes a duration'),
    });
    expect((await cli(['token', 'create', '--scope', 'viewer'])).code).toBe(2);
    expect((await cli(['token', 'revoke'])).code).toBe(2);
    expect((await cli(['token', 'revoke', 'not-a-uuid'])).code).toBe(2);
    expect((await cli(['token'])).code).toBe(2);
    expect(await cli(['token', 'list'], { as: 'operator' })).toMatchObject({ code: 1, err: expect.stringContaining('(forbidden)') });
  });

  it('audit shows who changed what, filtered by site and time; token entries only for admin; viewer refused', async () => {
    expect((await cli(['apply', '-f', seedsFile, '-m', 'first'], { as: 'operator' })).code).toBe(0);
    await cli(['token', 'create', 'audited', '--scope', 'viewer']);
    await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr1']);
    const all = await cli(['audit']);
    expect(all.out.split('\n')[0]).toMatch(/^TIME +ACTOR +ACTION +TARGET +DETAIL$/);
    expect(all.out).toMatch(/^\S+ +test-operator +site\.apply +bj-dc1 +revision 1: first$/m);
    expect(all.out).toMatch(/ token\.create +\S+ +name=audited scope=viewer$/m);
    const site = JSON.parse((await cli(['audit', '--site', 'bj-dc1', '-o', 'json'])).out);
    expect(site.map((e: { action: string }) => e.action)).toEqual(['enrollment.create', 'site.apply']);
    expect(site[1]).toMatchObject({ actor: 'test-operator', target: 'bj-dc1', site: 'bj-dc1', detail: { revision: 1, message: 'first' } });
    const asOperator = JSON.parse((await cli(['audit', '-o', 'json'], { as: 'operator' })).out);
    expect(asOperator.some((e: { action: string }) => e.action.startsWith('token.'))).toBe(false);
    expect((await cli(['audit', '--action', 'site.apply', '-o', 'json'])).out).not.toContain('enrollment.create');
    expect((await cli(['audit', '--limit', '1', '-o', 'json'])).out).toContain('enrollment.create');
    expect(JSON.parse((await cli(['audit', '--limit', '1', '-o', 'json'])).out)).toHaveLength(1);
    expect((await cli(['audit', '--site', 'nope'])).out).toMatch(/^no audit entries since \S+ for site nope\n$/);
    expect(await cli(['audit'], { as: 'viewer' })).toMatchObject({ code: 1, err: expect.stringContaining('(forbidden)') });
    expect((await cli(['audit', '--since', 'yesterday'])).code).toBe(2);
    expect((await cli(['audit', '--limit', '0'])).code).toBe(2);
  });

  it('GET /v1/audit pages with before/next', async () => {
    for (const m of ['a', 'b', 'c']) {
      const f = writeSpec(`audit-${m}.yaml`, (s) => (s.spec.services[0].scheduler = m === 'b' ? 'rr' : m === 'c' ? 'lc' : 'wlc'));
      expect((await cli(['apply', '-f', f, '--force', '-m', m])).code).toBe(0);
    }
    const get = async (q: string) =>
      (await fetch(`${t.url}/v1/audit?action=site.apply&${q}`, { headers: { authorization: `Bearer ${t.tokens.admin}` } })).json();
    const first = await get('limit=2');
    expect(first.entries.map((e: { detail: { message: string } }) => e.detail.message)).toEqual(['c', 'b']);
    const second = await get(`limit=2&before=${first.next}`);
    expect(second).toMatchObject({ entries: [{ detail: { message: 'a' } }], next: null });
    const bad = await fetch(`${t.url}/v1/audit?since=yesterday`, { headers: { authorization: `Bearer ${t.tokens.admin}` } });
    expect(bad.status).toBe(400);
  });
});
