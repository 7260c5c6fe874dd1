import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSpecText } from '#shared/site/parse.ts';
import { tempDir } from '../engine/engine.test-support.ts';
import { loopbackSiteYaml } from '../site-yaml.test-support.ts';
import { canMountTmpfs, smallTmpfs } from '../state/tmpfs.test-support.ts';
import { killTestProcesses, startProcess } from './process.test-support.ts';

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
    // A JSON spec (read with JSON.parse): the same issue, at its line in the JSON text.
    const badJson = join(dir, 'bad.json');
    const site = (parseSpecText(loopbackSiteYaml('lo-site', 1)) as { value: unknown }).value;
    const jsonText = JSON.stringify(site, null, 2).replace('"scheduler": "wrr"', '"scheduler": "nope"');
    await writeFile(badJson, jsonText);
    const j = await runCli(['run', '--spec', badJson, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', dir]);
    expect(j.code).toBe(2);
    const line = jsonText.split('\n').findIndex((l) => l.includes('"scheduler": "nope"')) + 1;
    expect(j.err).toContain(`bad.json:${line}: spec.services[0].scheduler`);
    await writeFile(bad, loopbackSiteYaml('lo-site', 1));
    const n = await runCli(['run', '--spec', bad, '--node', 'zz', '--dataplane', 'dry-run', '--state-dir', dir]);
    expect(n.code).toBe(2);
    expect(n.err).toMatch(/no node named "zz"/);
    // Standalone overrides: a bad file names the file and the field; cloud mode refuses the flag.
    const ovr = join(dir, 'overrides.json');
    await writeFile(
      ovr,
      JSON.stringify([
        {
          id: 'x',
          kind: 'drain-realserver',
          address: '127.0.0.2',
          service: null,
          port: null,
          node: null,
          author: 'a',
          reason: 'r',
          createdAt: '2026-01-01T00:00:00Z',
        },
      ]),
    );
    const o = await runCli(['run', '--spec', bad, '--node', 'd1', '--dataplane', 'dry-run', '--state-dir', dir, '--overrides', ovr]);
    expect(o.code).toBe(2);
    expect(o.err).toMatch(/overrides\.json: 0\.until: /);
    expect((await runCli(['run', '--overrides', ovr])).err).toMatch(/--overrides is for standalone mode/);
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

  it('standalone SIGHUP with only the overrides changed applies them without compiling the spec again; an edited spec is compiled', async () => {
    const spec = join(dir, 'site.yaml');
    const ovr = join(dir, 'overrides.json');
    await writeFile(spec, loopbackSiteYaml('lo-site', 2));
    await writeFile(ovr, '[]');
    const a = startProcess(process.execPath, [BIN, 'run', '--spec', spec, '--node', 'd1', '--state-dir', dir, '--dataplane', 'dry-run', '--overrides', ovr]);
    let at = await a.waitForOutput(/apply revision 1 succeeded/);
    const drain = {
      id: 'd-1',
      kind: 'drain-realserver',
      address: '127.0.0.2',
      service: null,
      port: null,
      node: 'r1',
      until: new Date(Date.now() + 3_600_000).toISOString(),
      author: 'alice',
      reason: 'disk swap',
      createdAt: new Date().toISOString(),
    };
    await writeFile(ovr, JSON.stringify([drain]));
    a.p.kill('SIGHUP');
    at = await a.waitForOutput(/apply revision 1 succeeded/, at);
    expect(a.output()).toContain('reload: 1 override(s) (spec unchanged, not compiled again)');
    expect(a.output()).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 0');
    // The same files again: nothing to do.
    a.p.kill('SIGHUP');
    at = await a.waitForOutput(/reload: config unchanged/, at);
    // An edited spec is compiled (the drain still layered on it), a broken one is refused as before.
    await writeFile(spec, loopbackSiteYaml('lo-site', 5).replace('scheduler: wrr', 'scheduler: nope'));
    a.p.kill('SIGHUP');
    at = await a.waitForOutput(/reload rejected: .*site\.yaml:12: spec\.services\[0\]\.scheduler/, at);
    await writeFile(spec, loopbackSiteYaml('lo-site', 5));
    await writeFile(ovr, '[]');
    a.p.kill('SIGHUP');
    await a.waitForOutput(/apply revision 2 succeeded/, at);
    expect(a.output()).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 5');
    a.p.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  }, 120_000);

  it('status without a state dir says so and exits 1', async () => {
    const r = await runCli(['status', '--state-dir', join(dir, 'none')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has not run here yet/);
  });

  it('status names a corrupt status file', async () => {
    await writeFile(join(dir, 'status.json'), '{"nodeId": "lo-site.d1", ');
    const r = await runCli(['status', '--state-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^state file ${join(dir, 'status.json')} is corrupt \\(`));
    await writeFile(join(dir, 'status.json'), '{"nodeId": 7}');
    expect((await runCli(['status', '--state-dir', dir])).err).toMatch(new RegExp(`^state file ${join(dir, 'status.json')} is not a valid status \\(nodeId: `));
  });
});

describe('one agent per node', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());
  afterAll(() => killTestProcesses());

  it('a second agent for the same state dir is refused and the first keeps serving; once the first is SIGKILLed a new one starts', async () => {
    const spec = join(dir, 'site.yaml');
    await writeFile(spec, loopbackSiteYaml('lo-site', 2));
    const args = [BIN, 'run', '--spec', spec, '--node', 'd1', '--state-dir', dir, '--dataplane', 'dry-run'];
    const first = startProcess(process.execPath, args);
    const at = await first.waitForOutput(/apply revision 1 succeeded/);

    const second = await runCli(args.slice(1));
    expect(second.code).toBe(1);
    expect(second.err).toMatch(new RegExp(`^another agent \\(pid ${first.p.pid}\\) is running for this node \\(state dir ${dir}\\); not starting`));
    expect(second.out).not.toMatch(/dry-run:|apply revision/); // it touched nothing
    expect((await readFile(join(dir, 'agent.pid'), 'utf8')).trim()).toBe(String(first.p.pid));

    await writeFile(spec, loopbackSiteYaml('lo-site', 5));
    first.p.kill('SIGHUP');
    await first.waitForOutput(/apply revision 2 succeeded/, at);
    expect(first.output()).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 5');

    first.p.kill('SIGKILL');
    expect(await first.exited).toBe(-1);
    const third = startProcess(process.execPath, args);
    await third.waitForOutput(/apply revision 1 succeeded/);
    expect((await readFile(join(dir, 'agent.pid'), 'utf8')).trim()).toBe(String(third.p.pid));
    third.p.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(await readFile(join(dir, 'agent.pid'), 'utf8')).toBe('');
  }, 120_000);

  it.skipIf(!canMountTmpfs)(
    'on a full state dir the agent still starts and serves, names the files it cannot write, leaves no temp file and stops cleanly',
    async () => {
      const disk = await smallTmpfs();
      try {
        const spec = join(dir, 'site.yaml');
        await writeFile(spec, loopbackSiteYaml('lo-site', 2));
        await disk.fill();
        const a = startProcess(process.execPath, [BIN, 'run', '--spec', spec, '--node', 'd1', '--state-dir', disk.dir, '--dataplane', 'dry-run']);
        const at = await a.waitForOutput(/apply revision 1 failed/);
        expect(a.output()).toContain(`ipvs: ${join(disk.dir, 'ipvs-owned.json')}: ENOSPC`);
        expect(a.output()).toContain('-a -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 2'); // the kernel got it all the same
        await writeFile(spec, loopbackSiteYaml('lo-site', 5));
        a.p.kill('SIGHUP');
        await a.waitForOutput(/-e -t 127\.0\.0\.50:8080 -r 127\.0\.0\.2:8080 -g -w 5/, at);
        a.p.kill('SIGTERM');
        expect(await a.exited).toBe(0);
        expect(a.output()).not.toMatch(/Unhandled|unhandled/);
        expect((await readdir(disk.dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
      } finally {
        await disk.unmount();
      }
    },
    120_000,
  );
});
