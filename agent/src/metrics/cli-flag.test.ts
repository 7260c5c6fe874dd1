import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killTestProcesses, startProcess } from '../cli/process.test-support.ts';
import { tempDir } from '../engine/engine.test-support.ts';
import { loopbackSiteYaml } from '../site-yaml.test-support.ts';
import { AgentConfig } from '../cloud/agent-config.ts';
import { parseListenAddress } from './listen-address.ts';

const BIN = join(import.meta.dirname, '../../../bin/lvsfleet-agent.mjs');

function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

afterAll(killTestProcesses);

describe('ADDR:PORT of --metrics-listen', () => {
  it('takes IPv4, bracketed IPv6 and localhost with a port; nothing else', () => {
    expect(parseListenAddress('127.0.0.1:9650')).toEqual({ host: '127.0.0.1', port: 9650 });
    expect(parseListenAddress('[::1]:9650')).toEqual({ host: '::1', port: 9650 });
    expect(parseListenAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('localhost:9650')).toEqual({ host: 'localhost', port: 9650 });
    for (const bad of [':9650', '9650', '127.0.0.1', '127.0.0.1:65536', '::1:9650', '[127.0.0.1]:9650', '300.0.0.1:80', 'example.com:80', '127.0.0.1:-1'])
      expect(parseListenAddress(bad), bad).toBeNull();
  });

  it('the enrolled config takes the same form in metrics.listen', () => {
    const cfg = {
      url: 'https://fleet.example',
      nodeId: 'site.d1',
      site: 'site',
      node: 'd1',
      mqtt: { url: 'mqtts://fleet.example', username: 'u', password: 'p' },
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x', kid: 'k' }],
      enrolledAt: '2025-01-01T00:00:00.000Z',
    };
    expect(AgentConfig.safeParse(cfg).success).toBe(true);
    expect(AgentConfig.safeParse({ ...cfg, metrics: { listen: '10.0.0.1:9650' } }).success).toBe(true);
    const bad = AgentConfig.safeParse({ ...cfg, metrics: { listen: '9650' } });
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'metrics.listen: expected ADDR:PORT, e.g. 127.0.0.1:9650 or [::1]:9650',
    ]);
  });
});

describe('lvsfleet-agent run --metrics-listen', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('exits 2 on a malformed address and 1 when it cannot listen, before touching the host', async () => {
    const spec = join(dir, 'site.yaml');
    await writeFile(spec, loopbackSiteYaml('lo-site', 1));
    const args = ['run', '--spec', spec, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', dir];
    const bad = await runCli([...args, '--metrics-listen', '9650']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--metrics-listen: expected ADDR:PORT/);
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const busy = await runCli([...args, '--metrics-listen', `127.0.0.1:${port}`]);
      expect(busy.code).toBe(1);
      expect(busy.err).toContain(`metrics: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      expect(busy.out).not.toContain('dry-run:');
    } finally {
      taken.close();
    }
  }, 60_000);

  it('standalone: serves /metrics on the address given, stops serving with the agent', async () => {
    const spec = join(dir, 'site.yaml');
    await writeFile(spec, loopbackSiteYaml('lo-site', 3));
    const a = startProcess(process.execPath, [
      BIN,
      'run',
      '--spec',
      spec,
      '--node',
      'd1',
      '--dataplane',
      'dry-run',
      '--state-dir',
      dir,
      '--metrics-listen',
      '127.0.0.1:0',
    ]);
    await a.waitForOutput(/apply revision 1 succeeded/);
    const url = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(a.output())![1];
    const body = await fetch(url).then((r) => r.text());
    expect(body).toMatch(/^lvsfleet_agent_applied_revision 1$/m);
    // The dry-run table carries no traffic: zero, not absent.
    expect(body).toMatch(/^keepalived_lvs_rs_conn\{vip="127\.0\.0\.50:8080",addr="127\.0\.0\.2:8080",proto="6"\} 0$/m);
    a.p.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);
});
