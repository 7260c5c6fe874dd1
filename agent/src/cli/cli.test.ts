import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../engine/engine.test-support.ts';
import { loopbackSiteYaml } from '../site-yaml.test-support.ts';
import { startProcess } from './process.test-support.ts';

const BIN = join(import.meta.dirname, '../../../bin/lvsfleet-agent.mjs');

/** Runs the CLI to completion. */
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

describe('lvsfleet-agent CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('exits 2 on invalid flags, a bad spec (path and line) and an unknown node', async () => {
    expect((await runCli(['run', '--bogus'])).code).toBe(2);
    expect((await runCli(['run', '--spec', 'x.yaml'])).err).toMatch(/needs both --spec FILE and --node NAME/);
    expect((await runCli(['run', '--spec', 'x', '--node', 'd1', '--dataplane', 'magic'])).code).toBe(2);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, loopbackSiteYaml('lo-site', 1).replace('scheduler: wrr', 'scheduler: nope'));
    const r = await runCli(['run', '--spec', bad, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:12: spec\.services\[0\]\.scheduler/);
    await writeFile(bad, loopbackSiteYaml('lo-site', 1));
    const n = await runCli(['run', '--spec', bad, '--node', 'zz', '--dataplane', 'dry-run', '--state-dir', dir]);
    expect(n.code).toBe(2);
    expect(n.err).toMatch(/no node named "zz"/);
  }, 120_000);

  it('standalone dry-run prints the batch, reloads on SIGHUP with an edit only, stops on SIGTERM; status answers from the state dir', async () => {
    const spec = join(dir, 'site.yaml');
    await writeFile(spec, loopbackSiteYaml('lo-site', 2));
    const a = startProcess(process.execPath, [BIN, 'run', '--spec', spec, '--node', 'd1', '--state-dir', dir, '--dataplane', 'dry-run']);
    const at = await a.waitForOutput(/apply revision 1 succeeded/);
    expect(a.output()).toContain('dry-run: ipvsadm -R <<EOF\n-A -t 127.0.0.50:8080 -s wrr\n-a -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 2\nEOF');
    await writeFile(spec, loopbackSiteYaml('lo-site', 5));
    a.p.kill('SIGHUP');
    await a.waitForOutput(/apply revision 2 succeeded/, at);
    expect(a.output()).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 5');
    expect(a.output().match(/-A -t/g)).toHaveLength(1);
    a.p.kill('SIGTERM');
    expect(await a.exited).toBe(0);

    const json = await runCli(['status', '--state-dir', dir, '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      nodeId: 'lo-site.d1',
      appliedRevision: 2,
      ipvs: { ok: true },
      services: [{ name: 'web', realServers: [{ address: '127.0.0.2', weight: 5, healthy: true }] }],
    });
    const table = await runCli(['status', '--state-dir', dir]);
    expect(table.out).toMatch(/revision {2}applied 2/);
    expect(table.out).toMatch(/agent {5}stopped/);
    expect(JSON.parse(json.out)).toMatchObject({ online: false, running: false });
    expect(JSON.parse(await readFile(join(dir, 'ipvs-owned.json'), 'utf8'))).toEqual(['tcp:127.0.0.50:8080']);
  }, 120_000);

  it('status without a state dir says so and exits 1', async () => {
    const r = await runCli(['status', '--state-dir', join(dir, 'none')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has not run here yet/);
  });
});
