import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { killTestProcesses, startProcess } from '../src/cli/process.test-support.ts';
import { loopbackSiteYaml } from '../src/site-yaml.test-support.ts';
import { freePorts } from '../../cloud/test/net.test-support.ts';

/**
 * End to end with the embedded cloud, everything real on loopback: `lvsfleet serve` (PGlite,
 * aedes, publisher, ingest), apply a site, enroll an agent, receive and verify the signed
 * revision, apply it (dry-run dataplane on a director), status in GET /v1/sites/{site}/status;
 * then the cloud dies and a restarted agent comes back on its cached revision.
 */
const ROOT = join(import.meta.dirname, '..', '..');
/** `lvsfleet` or `lvsfleet-agent` from bin/, as installed. */
const start = (bin: string, args: string[], env: Record<string, string> = {}) => startProcess(process.execPath, [join(ROOT, 'bin', bin), ...args], env);
const ADMIN = `lvsf_e2e_${randomBytes(16).toString('hex')}`;

describe('agent with the embedded cloud', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    killTestProcesses();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('enrolls, receives a signed revision, applies it, reports status; survives the cloud going away', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-agent-e2e-'));
    dirs.push(dir);
    const [port, mqttPort] = await freePorts(2);
    const url = `http://127.0.0.1:${port}`;
    const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...init.headers } });
    const put = async (yaml: string) => {
      const r = await api('/v1/sites/e2e/spec', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
      expect(r.status).toBe(200);
    };

    const serve = start('lvsfleet.mjs', ['serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', join(dir, 'cloud')], {
      LVSFLEET_ADMIN_TOKEN: ADMIN,
    });
    await serve.waitForOutput(/lvsfleet serving on/, 0, 90_000);
    await put(loopbackSiteYaml('e2e', 2));
    const tok = (await (await api('/v1/sites/e2e/nodes/d1/enrollment', { method: 'POST' })).json()) as { token: string };

    const config = join(dir, 'agent.json');
    const enroll = start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', config]);
    expect(await enroll.exited).toBe(0);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    const reuse = start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', join(dir, 'again.json')]);
    expect(await reuse.exited).not.toBe(0); // one-time token

    const state = join(dir, 'state');
    const args = ['run', '--config', config, '--state-dir', state, '--dataplane', 'dry-run'];
    const agent = start('lvsfleet-agent.mjs', args);
    let at = await agent.waitForOutput(/apply revision 1 succeeded/);
    expect(agent.output()).toContain('-a -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 2');

    type SiteStatus = {
      nodes: { name: string; online: boolean; appliedRevision: number | null; services: { realServers: { weight: number }[] }[] }[];
      events: { type: string }[];
    };
    const site = () => api('/v1/sites/e2e/status').then((r) => r.json() as Promise<SiteStatus>);
    // d1 as the site status shows it; undefined while the API does not answer.
    const d1 = () =>
      site().then(
        (s) => s.nodes.find((n) => n.name === 'd1'),
        () => undefined,
      );
    await waitFor(
      async () => {
        const n = await d1();
        return n?.online && n.appliedRevision === 1 && n.services[0]?.realServers[0]?.weight === 2;
      },
      { timeoutMs: 30_000, what: 'd1 online on revision 1 in the site status' },
    );

    await put(loopbackSiteYaml('e2e', 7));
    at = await agent.waitForOutput(/apply revision 2 succeeded/, at);
    expect(agent.output().slice(at - 400)).not.toContain('-A -t');
    expect(agent.output()).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 7');
    await waitFor(async () => (await d1())?.appliedRevision === 2, { timeoutMs: 30_000, what: 'revision 2 in the site status' });
    expect((await site()).events.map((e) => e.type)).toContain('apply.succeeded');

    // A crashed agent: the broker publishes its last will and the site status shows it offline.
    agent.p.kill('SIGKILL');
    await agent.exited;
    await waitFor(async () => (await d1())?.online === false, { timeoutMs: 90_000, what: 'd1 offline after a crash (last will)' });
    const back = start('lvsfleet-agent.mjs', args);
    at = await back.waitForOutput(/mqtt connected/);
    await waitFor(async () => (await d1())?.online === true, { timeoutMs: 30_000, what: 'd1 online again' });
    expect(back.output()).not.toMatch(/config rejected/); // the retained revision 2 is the one it has: not a replay error
    expect(back.output()).toMatch(/booting from cached revision 2/);

    // The cloud goes away: the agent keeps running, then restarts on its cached revision.
    serve.p.kill('SIGTERM');
    await serve.exited;
    await back.waitForOutput(/mqtt disconnected; reconnecting/, at);
    back.p.kill('SIGTERM');
    expect(await back.exited).toBe(0);
    const again = start('lvsfleet-agent.mjs', args);
    await again.waitForOutput(/booting from cached revision 2/);
    await again.waitForOutput(/apply revision 2 succeeded/);
    again.p.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    const status = start('lvsfleet-agent.mjs', ['status', '--state-dir', state, '-o', 'json']);
    expect(await status.exited).toBe(0);
    expect(JSON.parse(status.output())).toMatchObject({ nodeId: 'e2e.d1', appliedRevision: 2 });
  }, 240_000);
});
