import { spawn } from 'node:child_process';
import { chown, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../engine/engine.test-support.ts';
import { loopbackSiteYaml } from '../site-yaml.test-support.ts';
import { defaultStateDir, stateDirCandidates } from '../state/paths.ts';
import { killTestProcesses, startProcess } from './process.test-support.ts';

const BIN = join(import.meta.dirname, '../../../bin/lvsfleet-agent.mjs');
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

describe('defaultStateDir', () => {
  const home = { HOME: '/home/ann' };
  it('is /var/lib/lvsfleet only for root with the real dataplane', () => {
    expect(defaultStateDir('linux', { uid: 0, env: home })).toBe('/var/lib/lvsfleet');
    expect(defaultStateDir('dry-run', { uid: 0, env: { HOME: '/root' } })).toBe('/root/.local/state/lvsfleet/dry-run');
    expect(defaultStateDir('dry-run', { uid: 1000, env: home })).toBe('/home/ann/.local/state/lvsfleet/dry-run');
    expect(defaultStateDir('linux', { uid: 1000, env: home })).toBe('/home/ann/.local/state/lvsfleet');
  });

  it('honours an absolute XDG_STATE_HOME and ignores a relative one', () => {
    expect(defaultStateDir('dry-run', { uid: 1000, env: { ...home, XDG_STATE_HOME: '/x/state' } })).toBe('/x/state/lvsfleet/dry-run');
    expect(defaultStateDir('dry-run', { uid: 1000, env: { ...home, XDG_STATE_HOME: 'state' } })).toBe('/home/ann/.local/state/lvsfleet/dry-run');
  });

  it('status looks at the real agent’s dir first, then the dry run’s', () => {
    expect(stateDirCandidates({ uid: 0, env: { HOME: '/root' } })).toEqual(['/var/lib/lvsfleet', '/root/.local/state/lvsfleet/dry-run']);
  });
});

/** Runs the agent CLI to completion as `nobody` with HOME=home. */
function runAsNobody(home: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'env', `HOME=${home}`, process.execPath, BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

// Dropping to another user needs root (setpriv); as a non-root user the run itself is the test.
describe.skipIf(!isRoot)('lvsfleet-agent as a non-root user (needs root to drop to nobody with setpriv)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await chown(dir, NOBODY, NOBODY);
  });
  afterEach(() => cleanup());
  afterAll(() => killTestProcesses());

  it('run --dataplane dry-run keeps its state under ~/.local/state/lvsfleet/dry-run; status finds it, also through --config', async () => {
    const spec = join(dir, 'site.yaml');
    await writeFile(spec, loopbackSiteYaml('lo-site', 1));
    const agent = startProcess('setpriv', [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      'env',
      `HOME=${dir}`,
      'XDG_STATE_HOME=',
      process.execPath,
      BIN,
      'run',
      '--spec',
      spec,
      '--node',
      'd1',
      '--dataplane',
      'dry-run',
    ]);
    const stateDir = join(dir, '.local', 'state', 'lvsfleet', 'dry-run');
    await agent.waitForOutput(new RegExp(`dataplane dry-run, state ${stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    await agent.waitForOutput(/ipvsadm -R/);
    const status = await runAsNobody(dir, ['status', '-o', 'json']);
    expect(status.err).toBe('');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ nodeId: 'lo-site.d1', running: true });
    expect((await stat(join(stateDir, 'status.json'))).uid).toBe(NOBODY);

    // An enrolled-style config naming the state dir: status reads that agent's dir.
    const config = join(dir, 'agent.json');
    await writeFile(config, JSON.stringify({ stateDir }));
    expect(JSON.parse((await runAsNobody(dir, ['status', '--config', config, '-o', 'json'])).out)).toMatchObject({ nodeId: 'lo-site.d1' });
    const missing = await runAsNobody(dir, ['status', '--config', join(dir, 'nope.json')]);
    expect(missing).toMatchObject({ code: 2, err: expect.stringContaining(`--config ${join(dir, 'nope.json')}: no such file`) });

    agent.p.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('status with no agent run names the dirs it looked in and exits 1', async () => {
    const r = await runAsNobody(dir, ['status']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no status at ${join(dir, '.local/state/lvsfleet/status.json')} or ${join(dir, '.local/state/lvsfleet/dry-run/status.json')}`);
  });
});
