import { execFile } from 'node:child_process';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNode } from '#shared/compiler/compile.ts';
import { parseSite } from '#shared/site/parse.ts';
import { topics } from '#shared/wire/topics.ts';
import { startTwoListenerBrokers } from '../../../cloud/test/two-listener-brokers.test-support.ts';
import { tempDir } from '../engine/engine.test-support.ts';
import { Intake } from '../intake/intake.ts';
import { signDoc, testKey, type TestKey } from '../intake/keys.test-support.ts';
import { statePaths } from '../state/paths.ts';
import { loopbackSiteYaml } from '../site-yaml.test-support.ts';
import { killTestProcesses, startProcess, type TestProcess } from './process.test-support.ts';

const ROOT = join(import.meta.dirname, '../../..');
const CHUNKS = 'lvsfleet-agent-chunks';

/**
 * The bundle as hosts run it (agent/build.mjs): an entry and the chunks it imports on demand.
 * Each case runs a copy with the chunks its node must never load deleted: had the run needed
 * one, the import would fail and the apply with it.
 */
/** `x`, or a rejection naming `what()` once `ms` have passed without it. */
function within<T>(ms: number, x: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()}: not within ${ms} ms`)), ms);
  });
  return Promise.race([x, late]).finally(() => clearTimeout(timer));
}

/**
 * A real aedes broker on loopback for split.d1 (`authorizePublish` may hold a packet: no PUBACK):
 * `retain` puts a desired document on it, `close` is the test's teardown, bounded and said when it overruns.
 */
async function splitBroker(authorizePublish?: (client: unknown, packet: { topic: string }, done: (err: Error | null) => void) => void) {
  const aedes = await Aedes.createBroker(authorizePublish ? { authorizePublish: authorizePublish as never } : {});
  const clients: Client[] = [];
  aedes.on('client', (c) => clients.push(c));
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const closing = (what: string, close: Promise<unknown>) => within(10_000, close, () => what).catch((e: Error) => console.log(`teardown: ${e.message}`));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients,
    retain: (payload: string, what: string) =>
      within(
        10_000,
        new Promise<void>((r, j) =>
          aedes.publish({ cmd: 'publish', topic: topics.desired('split.d1'), payload, qos: 1, retain: true, dup: false }, (e) => (e ? j(e) : r())),
        ),
        () => `the broker's retain of ${what}`,
      ),
    /** After the agent: the server's close waits for every connection to end. */
    async close() {
      await closing('aedes.close', new Promise<void>((r) => aedes.close(() => r())));
      await closing('the TCP server close', new Promise((r) => server.close(r)));
    },
  };
}

describe('the split agent bundle', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let chunks: string[];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await promisify(execFile)(process.execPath, [join(ROOT, 'agent/build.mjs'), join(dir, 'full')]);
    chunks = await readdir(join(dir, 'full', CHUNKS));
    await writeFile(join(dir, 'site.yaml'), loopbackSiteYaml('split', 1));
  }, 120_000);
  afterAll(async () => {
    killTestProcesses();
    await cleanup();
  });

  /** A copy of the bundle without the chunks named for the given entry modules (by file name prefix). */
  async function without(name: string, modules: string[]): Promise<string> {
    const out = join(dir, name);
    await cp(join(dir, 'full'), out, { recursive: true });
    const gone = chunks.filter((c) => modules.some((m) => c.startsWith(`${m}-`)));
    expect(gone.length).toBeGreaterThanOrEqual(modules.length); // each named module is a chunk of its own
    for (const c of gone) await rm(join(out, CHUNKS, c));
    return join(out, 'lvsfleet-agent.mjs');
  }

  async function applies(bundle: string, node: string, extra: string[] = [], at: { spec?: string; state?: string } = {}) {
    const p = startProcess(process.execPath, [
      bundle,
      'run',
      '--spec',
      at.spec ?? join(dir, 'site.yaml'),
      '--node',
      node,
      '--dataplane',
      'dry-run',
      '--state-dir',
      at.state ?? join(dir, `state-${node}`),
      ...extra,
    ]);
    await p.waitForOutput(/apply revision 1 succeeded/);
    return p;
  }

  /** The whole bundle (built in beforeAll). */
  const fullBundle = () => join(dir, 'full', 'lvsfleet-agent.mjs');
  /** `run --config` (cloud mode) of `bundle` on the dry-run dataplane. */
  const cloudMode = (bundle: string, config: string, state: string) =>
    startProcess(process.execPath, [bundle, 'run', '--config', config, '--state-dir', state, '--dataplane', 'dry-run']);

  /** Node split.d1's desired document of `revision`, signed with `key` (the site's d1 as its config). */
  function splitD1Doc(key: TestKey, revision: number): Promise<string> {
    const parsed = parseSite(loopbackSiteYaml('split', 1));
    if (!parsed.ok) throw new Error('test site invalid');
    return signDoc(key, { nodeId: 'split.d1', site: 'split', revision, issuedAt: new Date().toISOString(), config: compileNode(parsed.site, 'd1') });
  }

  /** The config file `enroll` writes for node split.d1, told the broker at `mqttUrl`, with `key` pinned. */
  async function enrolled(name: string, mqttUrl: string, key: TestKey): Promise<string> {
    const config = join(dir, `${name}.json`);
    const file = { url: 'http://127.0.0.1:9', nodeId: 'split.d1', site: 'split', node: 'd1', mqtt: { url: mqttUrl, username: 'split.d1', password: 'p' } };
    await writeFile(config, JSON.stringify({ ...file, keys: [key.pub], enrolledAt: new Date().toISOString() }));
    return config;
  }

  const cloudAndCommands = ['cloud-run', 'enroll', 'status', 'endpoint', 'host-parts-linux'];

  it('a standalone dry-run director loads neither the cloud link, the other commands, metrics nor the Linux parts', async () => {
    const p = await applies(await without('director', [...cloudAndCommands, 'health-checker']), 'd1');
    p.p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('a real server also never loads VRRP or BFD', async () => {
    const p = await applies(await without('realserver', [...cloudAndCommands, 'driver']), 'r1');
    p.p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('a standalone restart with its spec unchanged takes the compile it saved, loading neither the YAML parser nor the compiler; an edited spec is compiled', async () => {
    const at = { spec: join(dir, 'restart.yaml'), state: join(dir, 'state-restart') };
    await writeFile(at.spec, loopbackSiteYaml('split', 1));
    const stop = async (p: Awaited<ReturnType<typeof applies>>) => {
      p.p.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      return p.output();
    };
    const first = await stop(await applies(fullBundle(), 'd1', [], at));
    expect(first).not.toMatch(/not compiled again|compile saved in .* not used/);
    const saved = await readFile(join(at.state, 'standalone-compiled.json'), 'utf8');
    expect(saved.split('\n')[0]).toMatch(/^\{"build":"[0-9a-f]{32}","node":"d1","specSha256":"[0-9a-f]{64}","configSha256":"[0-9a-f]{64}"\}$/);
    // Had the restart needed the spec compiled, the chunk's import would fail and the apply with it.
    const noCompiler = await without('no-compiler', ['compile-spec']);
    expect(await stop(await applies(noCompiler, 'd1', [], at))).toMatch(
      /spec unchanged since the compile saved in .*standalone-compiled\.json: not compiled again/,
    );
    await writeFile(at.spec, `${loopbackSiteYaml('split', 1)}# edited\n`);
    const edited = startProcess(process.execPath, [noCompiler, 'run', '--spec', at.spec, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', at.state]);
    expect(await edited.exited).not.toBe(0);
    expect(edited.output()).toMatch(/compile-spec/);
    const running = await applies(fullBundle(), 'd1', [], at);
    expect(running.output()).toMatch(/compile saved in .* not used: the spec changed since/);
    // A reload compiles the spec edited again and saves that compile too; the stop waits for the save.
    await writeFile(at.spec, `${loopbackSiteYaml('split', 1)}# edited twice\n`);
    const from = running.output().length;
    running.p.kill('SIGHUP');
    await running.waitForOutput(/reload: config unchanged/, from);
    await stop(running);
    expect(await stop(await applies(noCompiler, 'd1', [], at))).toMatch(/not compiled again/);
  });

  it('a cloud-mode agent applies its cached signed document before it loads the broker link', async () => {
    // Enrolled as `enroll` writes it, the document cached by the agent's own intake.
    const key = await testKey();
    const state = join(dir, 'state-cloud');
    const intake = new Intake({ nodeId: 'split.d1', keys: [key.pub], paths: statePaths(state), log: () => {}, onReject: () => {} });
    expect(await intake.receive(await splitD1Doc(key, 1))).toMatchObject({ revision: 1 });
    const config = await enrolled('agent', 'mqtt://127.0.0.1:9', key);
    // Without the link's chunk the apply still happens; the import after it fails, and the agent stops (exit 1).
    const p = cloudMode(await without('cloud', ['mqtt-link']), config, state);
    await p.waitForOutput(/booting from cached revision 1[\s\S]*apply revision 1 succeeded[\s\S]*cannot load the broker link: .*mqtt-link/);
    expect(await p.exited).toBe(1);
    // The whole bundle then goes on to the broker (none listens on port 9: it retries) and stops cleanly.
    const full = cloudMode(fullBundle(), config, state);
    await full.waitForOutput(/apply revision 1 succeeded/);
    await full.waitForOutput(/mqtt (error|disconnected)/, full.output().indexOf('apply revision 1 succeeded'));
    full.p.kill('SIGTERM');
    expect(await full.exited).toBe(0);
    // The bundle names its build; a document that build's schema took is not checked again at boot.
    const build = /lvsfleet-agent [\d.]+ \(build ([0-9a-f]{32})\)/.exec(full.output())?.[1];
    expect(build).toBeDefined();
    expect(full.output()).not.toContain('schema checked by this build');
    const cached = join(state, 'desired.json');
    await writeFile(cached, JSON.stringify({ ...JSON.parse(await readFile(cached, 'utf8')), schemaCheckedBy: build }));
    const again = cloudMode(fullBundle(), config, state);
    await again.waitForOutput(/booting from cached revision 1 \(.*, its schema checked by this build at receipt\)[\s\S]*apply revision 1 succeeded/);
    again.p.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    // Nor is the claims' schema loaded for it: that start runs without the schema's chunk (the first
    // start above, checking the schema, loaded it from the whole bundle).
    const lean = cloudMode(await without('no-claims-schema', ['desired-claims']), config, state);
    await lean.waitForOutput(/booting from cached revision 1 \(.*, its schema checked by this build at receipt\)[\s\S]*apply revision 1 succeeded/);
    lean.p.kill('SIGTERM');
    expect(await lean.exited).toBe(0);
  });

  it('a cloud-mode agent with nothing cached takes its document from a real broker, over TCP and over a WebSocket', async () => {
    // The bundle leaves some of mqtt.js out (agent/build.mjs, mqttWithoutUnusable): what it keeps
    // connects both ways an agent may be told to, and the claims' schema loads for the first check.
    const key = await testKey();
    const jws = await splitD1Doc(key, 1);
    const brokers = await startTwoListenerBrokers();
    let p: TestProcess | undefined;
    try {
      for (const b of brokers) {
        const pub = await mqtt.connectAsync(b.tcpUrl, { clientId: `bundle-test-${b.name}` });
        await pub.publishAsync(topics.desired('split.d1'), jws, { qos: 1, retain: true });
        await pub.endAsync();
        for (const [how, url] of [
          ['tcp', b.tcpUrl],
          ['ws', b.wsUrl],
        ]) {
          const config = await enrolled(`agent-${b.name}-${how}`, url, key);
          p = cloudMode(fullBundle(), config, join(dir, `state-${b.name}-${how}`));
          await p.waitForOutput(/no cached configuration yet[\s\S]*mqtt connected[\s\S]*received revision 1[\s\S]*apply revision 1 succeeded/, 0, 30_000);
          p.p.kill('SIGTERM');
          expect(await p.exited, `${b.name} over ${how}`).toBe(0);
        }
      }
    } finally {
      // An agent still running (a step failed) first: a broker's close waits for its connections.
      p?.p.kill('SIGKILL');
      for (const b of brokers) await b.close();
    }
  }, 120_000);

  it('a bundled agent the broker drops reconnects and takes the document published meanwhile', async () => {
    // The bundle runs mqtt.js on Node's own streams (agent/build.mjs, nodeStreams): its teardown and
    // reconnect go through them.
    const key = await testKey();
    const broker = await splitBroker();
    let p: TestProcess | undefined;
    try {
      await broker.retain(await splitD1Doc(key, 1), 'revision 1');
      const config = await enrolled('agent-dropped', broker.url, key);
      p = cloudMode(fullBundle(), config, join(dir, 'state-dropped'));
      // Each step with its own time limit, under the test's: a failure says which step, with the output.
      const first = await p.waitForOutput(/apply revision 1 succeeded/, 0, 30_000);
      for (const c of broker.clients) c.close();
      const gone = await p.waitForOutput(/mqtt disconnected/, first, 20_000);
      await broker.retain(await splitD1Doc(key, 2), 'revision 2, its client just dropped');
      await p.waitForOutput(/mqtt connected[\s\S]*received revision 2[\s\S]*apply revision 2 succeeded/, gone, 30_000);
      p.p.kill('SIGTERM');
      const agent = p;
      expect(await within(20_000, agent.exited, () => `the agent's exit after SIGTERM; its output:\n${agent.output()}`)).toBe(0);
    } finally {
      // The agent first. The broker's close is bounded, and says when it overruns (this test once
      // ran into its 120 s limit with no step of its own overdue: the agent's exit, since fixed).
      p?.p.kill('SIGKILL');
      await broker.close();
    }
  }, 120_000);

  it("a bundled agent whose broker stops acknowledging still exits at SIGTERM, within the link's bound", async () => {
    // The broker takes the agent's statuses but never acknowledges its events: the apply's event is
    // in flight at the stop. mqtt.js's clean end would wait for its PUBACK for ever.
    const key = await testKey();
    const broker = await splitBroker((_client, packet, done) => (packet.topic === topics.events('split.d1') ? undefined : done(null)));
    let p: TestProcess | undefined;
    try {
      await broker.retain(await splitD1Doc(key, 1), 'revision 1');
      const config = await enrolled('agent-silent', broker.url, key);
      p = cloudMode(fullBundle(), config, join(dir, 'state-silent'));
      await p.waitForOutput(/event apply\.succeeded/, 0, 30_000);
      p.p.kill('SIGTERM');
      const agent = p;
      expect(await within(20_000, agent.exited, () => `the agent's exit after SIGTERM; its output:\n${agent.output()}`)).toBe(0);
      expect(agent.output()).toMatch(/mqtt: \d+ message\(s\) unacknowledged at close; dropping the connection/);
    } finally {
      p?.p.kill('SIGKILL');
      await broker.close();
    }
  }, 120_000);

  it('loads what it is asked for: metrics with --metrics-listen, the status command', async () => {
    const bundle = fullBundle();
    const p = await applies(bundle, 'd1', ['--metrics-listen', '127.0.0.1:7517']);
    const res = await fetch('http://127.0.0.1:7517/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^lvsfleet_/m);
    p.p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const status = startProcess(process.execPath, [bundle, 'status', '--state-dir', join(dir, 'state-d1'), '-o', 'json']);
    expect(await status.exited).toBe(0);
    expect(JSON.parse(status.output())).toMatchObject({ nodeId: 'split.d1', online: false });
  });
});
