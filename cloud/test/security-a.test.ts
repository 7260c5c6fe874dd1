/**
 * Security hardening, part A: one test per finding — bounded input from nodes, output encoded
 * for each sink (terminal, log, Slack, HTML), hostile YAML, one server per data directory, and
 * re-enrollment only on purpose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { topics } from '#shared/wire/topics.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { toSlack } from '../src/alerts/slack.ts';
import { useTestApp } from '../src/api/test-app.test-support.ts';
import { main } from '../src/cli/main.ts';
import { memoryIO } from '../src/cli/test-io.test-support.ts';
import { auditLog, events } from '../src/db/schema.ts';
import { loadSigner } from '../src/keys/signing.ts';
import { issueNodeCredentials } from '../src/mqtt/credentials.ts';
import { SEEDS_YAML } from './fixtures.test-support.ts';
import { call } from './harness.test-support.ts';
import { connectAs, endQuietly } from './mqtt-client.test-support.ts';

const BIN = fileURLToPath(new URL('../../bin/lvsfleet.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-security-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** `lvsfleet serve` as its own process, the way an operator runs it. */
function serve(dataDir: string) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir], {
    env: { ...process.env, DATABASE_URL: '', LVSFLEET_ADMIN_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const s = { child, out: '', err: '', exit: new Promise<number | null>((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (s.out += d));
  child.stderr!.on('data', (d) => (s.err += d));
  return s;
}

const ESC = '\x1b';
/** The control characters in `text` other than newline (C0, DEL, C1). */
const controls = (text: string) => [...text].filter((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)));
const HOSTILE = `${ESC}[2J${ESC}]0;owned${ESC}\\\x9b31mred\x07<img src=x onerror=alert(1)>\nFORGED`;

describe('a served cloud and a hostile enrolled node', () => {
  const data = join(dir, 'data');
  let server: ReturnType<typeof serve>;
  let url: string;
  let mqttUrl: string;
  let admin: string;
  let node: MqttClient;
  const nodeId = 'bj-dc1.dr1';

  beforeAll(async () => {
    server = serve(data);
    await waitFor(() => /admin token \(shown once[^\n]*\n\s+lvf_\S+/.test(server.out) || server.child.exitCode !== null, {
      what: 'serve banner',
      timeoutMs: 120_000,
    });
    url = /serving on (http:\/\/\S+)/.exec(server.out)![1];
    mqttUrl = /mqtt:\s+(mqtt:\/\/\S+)/.exec(server.out)![1];
    admin = /admin token \(shown once[^\n]*\n\s+(lvf_\S+)/.exec(server.out)![1];
    expect((await call(url, admin, 'PUT', '/v1/sites/bj-dc1/spec', { yaml: SEEDS_YAML })).status).toBe(200);
    const { json: made } = await call(url, admin, 'POST', '/v1/sites/bj-dc1/nodes/dr1/enrollment', { json: {} });
    const { json: creds } = await call(url, null, 'POST', '/v1/agent/enroll', { json: { token: made.token } });
    node = await connectAs(mqttUrl, creds.mqtt.username, creds.mqtt.password);
  }, 150_000);
  afterAll(async () => {
    await endQuietly(node);
    server?.child.kill('SIGTERM');
    await server?.exit;
  });

  it('refuses a status over 4 MiB, counts it by reason and raises node.misbehaving', async () => {
    const huge = JSON.stringify({ nodeId, online: true, errors: ['x'.repeat(5 * 1024 * 1024)] });
    await node.publishAsync(topics.status(nodeId), huge, { qos: 1, retain: true });
    const metric = async () => /lvsfleet_ingest_rejected_total\{reason="oversize"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1];
    await waitFor(async () => (await metric()) === '1', { what: 'oversize counted', timeoutMs: 20_000 });
    const { json: status } = await call(url, admin, 'GET', '/v1/sites/bj-dc1/status');
    expect(status.events.map((e: { type: string }) => e.type)).toContain('node.misbehaving');
    expect(JSON.stringify(status).length).toBeLessThan(1024 * 1024);
  }, 60_000);

  it('disconnects a node that sends a packet over 8 MiB, before the broker stores it', async () => {
    const creds = await call(url, admin, 'POST', '/v1/sites/bj-dc1/nodes/dr2/enrollment', { json: {} });
    const { json } = await call(url, null, 'POST', '/v1/agent/enroll', { json: { token: creds.json.token } });
    const dr2 = await connectAs(mqttUrl, json.mqtt.username, json.mqtt.password);
    const closed = new Promise<void>((r) => dr2.once('close', () => r()));
    dr2.publish(topics.status('bj-dc1.dr2'), Buffer.alloc(9 * 1024 * 1024, 0x20), { qos: 0, retain: true });
    await closed;
    await endQuietly(dr2);
    await waitFor(() => server.err.includes('at most 8388608'), { what: 'disconnect logged', timeoutMs: 10_000 });
  }, 60_000);

  it('prints no escape sequence a node sent to the operator’s terminal, in any output format', async () => {
    await node.publishAsync(
      topics.status(nodeId),
      JSON.stringify({ nodeId, online: true, appliedRevision: 1, errors: [HOSTILE], services: [{ name: HOSTILE, quorum: false, realServers: [] }] }),
      { qos: 1, retain: true },
    );
    const env = { LVSFLEET_URL: url, LVSFLEET_TOKEN: admin };
    await waitFor(
      async () => {
        const io = memoryIO(env);
        await main(['status', 'bj-dc1', '-o', 'json'], io);
        return io.out.includes('owned');
      },
      { what: 'hostile status stored', timeoutMs: 10_000 },
    );
    for (const format of ['table', 'json', 'yaml']) {
      const io = memoryIO(env);
      expect(await main(['status', 'bj-dc1', '-o', format], io)).toBe(0);
      // json and yaml print the node's own text (escaped); the table prints the status model's
      // reasons, which name spec objects, so there the check is only that nothing raw gets out.
      if (format !== 'table') expect(io.out, format).toContain('red');
      expect(controls(io.out), format).toEqual([]);
    }
    const json = memoryIO(env);
    await main(['status', 'bj-dc1', '-o', 'json'], json);
    // JSON stays lossless: the escapes parse back to the node's very text.
    expect(JSON.parse(json.out).nodes.find((n: { name: string }) => n.name === 'dr1').errors).toEqual([HOSTILE]);
  }, 30_000);

  it('the status pages escape what nodes send', async () => {
    const page = await (await fetch(`${url}/status/bj-dc1`)).text();
    expect(page).not.toContain('<img');
    expect(page).not.toContain(ESC);
  });

  it('a newline in a topic cannot forge a log line: every line is one JSON object', async () => {
    // The broker refuses the topic and disconnects the node: this test comes after those that publish.
    node.publish(`lvsfleet/v1/nodes/${nodeId}\n2026-01-01T00:00:00.000Z publisher: FORGED LOG LINE/status`, '{}', { qos: 0 });
    await waitFor(() => server.err.includes('FORGED LOG LINE'), { what: 'the refusal logged', timeoutMs: 10_000 });
    const lines = server.err.split('\n').filter((l) => l.length);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.filter((l) => l.startsWith('2026-01-01'))).toEqual([]);
    const refusal = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => l.msg.includes('FORGED'));
    expect(refusal?.msg).toContain(`${nodeId}\n2026-01-01T00:00:00.000Z publisher: FORGED LOG LINE`);
  }, 30_000);

  it('refuses a second serve on the same data directory, naming the first', async () => {
    const second = serve(data);
    expect(await second.exit).toBe(1);
    expect(second.err).toContain(`in use by another lvsfleet serve (pid ${server.child.pid})`);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 60_000);
});

describe('the API and its sinks', () => {
  const t = useTestApp({
    listen: true,
    deps: (db) => ({ signer: { publicJwks: async () => (await loadSigner(db)).publicJwks() }, issueNodeCredentials, mqttUrl: 'mqtt://127.0.0.1:18830' }),
  });

  it('escapes &, < and > in Slack text', () => {
    const m = toSlack({
      id: '1',
      type: 'realserver.down',
      site: 'bj-dc1',
      nodeId: 'bj-dc1.dr1',
      at: '2026-01-01T00:00:00.000Z',
      summary: 'web: <!channel> <https://evil.example/login|Click here> & more',
      data: {},
    });
    expect(m.text).not.toMatch(/[<>]/);
    expect(m.text).toContain('&lt;!channel&gt; &lt;https://evil.example/login|Click here&gt; &amp; more');
  });

  it('answers with CSP (no inline code), frame-ancestors none, nosniff and a referrer policy; the pages have no inline script or style', async () => {
    for (const path of ['/', '/status/none', '/v1/sites']) {
      const res = await t.app.request(path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    const html = await (await t.app.request('/')).text();
    expect(html).not.toMatch(/<script>|<style>|<script(?![^>]*\bsrc=)[^>]*>/);
    const script = await t.app.request('/assets/dashboard.js');
    expect(script.headers.get('content-type')).toContain('javascript');
    // The dashboard keeps no token in the browser: it opens a cookie session instead.
    const code = await script.text();
    expect(code).not.toMatch(/localStorage|sessionStorage|document\.cookie/);
    expect(code).toContain("'/v1/session'");
    expect((await t.app.request('/assets/lvsfleet.css')).headers.get('content-type')).toContain('text/css');
  });

  it('answers 400 with a line for a billion-laughs body and for deep nesting', async () => {
    const lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) lol.push(`${name}: &${name} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`);
    const bomb = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: lol.join('\n') + '\n' });
    expect(bomb.status).toBe(400);
    const bombBody = await bomb.json();
    expect(bombBody.error.issues[0]).toMatchObject({ line: 2, message: expect.stringContaining('aliases') });
    const deep = await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: `kind: Site\nspec: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n` });
    expect(deep.status).toBe(400);
    expect((await deep.json()).error.issues[0]).toMatchObject({ line: 2, message: expect.stringContaining('nested deeper than 64') });
  });

  it('refuses to re-enroll a node without --replace; with it, re-enrollment is audited and raises node.reenrolled', async () => {
    expect((await t.req('/v1/sites/bj-dc1/spec', { method: 'PUT', yaml: SEEDS_YAML })).status).toBe(200);
    const env = { LVSFLEET_URL: t.url, LVSFLEET_TOKEN: t.tokens.operator };
    const cli = async (args: string[]) => {
      const io = memoryIO(env);
      return { code: await main(args, io), out: io.out, err: io.err };
    };
    const enroll = (token: string) => call(t.url, null, 'POST', '/v1/agent/enroll', { json: { token } });
    const first = await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr1', '-o', 'json']);
    const early = await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr1', '-o', 'json']);
    expect((await enroll(JSON.parse(first.out).token)).status).toBe(200);

    const refused = await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr1']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('already enrolled');
    expect(refused.err).toContain('--replace');
    // A token made before the node enrolled cannot take it over either.
    expect(await enroll(JSON.parse(early.out).token)).toMatchObject({ status: 409, json: { error: { code: 'already_enrolled' } } });

    const replace = await cli(['enroll-token', '--site', 'bj-dc1', '--node', 'dr1', '--replace', '-o', 'json']);
    expect(replace.code).toBe(0);
    expect((await enroll(JSON.parse(replace.out).token)).status).toBe(200);
    const raised = await t.db.db.select().from(events).where(eq(events.type, 'node.reenrolled'));
    expect(raised).toMatchObject([{ nodeId: 'bj-dc1.dr1' }]);
    expect((await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'node.reenroll'))).map((a) => a.target)).toEqual(['bj-dc1.dr1']);
  });
});
