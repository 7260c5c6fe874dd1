import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { statePaths } from '../state/paths.ts';
import { canMountTmpfs, smallTmpfs, type SmallDisk } from '../state/tmpfs.test-support.ts';
import { Engine } from './engine.ts';
import { NODES, configFor, tempDir } from './engine.test-support.ts';

const web = {
  name: 'web',
  vip: '10.99.0.50',
  port: 80,
  scheduler: 'wrr',
  forwarding: 'dr',
  healthCheck: { type: 'tcp', interval: '1s' },
  realServers: [{ node: 'rs1' }],
};
const director = configFor({ nodes: NODES, services: [web] }, 'd1');

function engine(host: MemoryHost, stateDir: string, logs: string[]): Engine {
  return new Engine({ nodeId: 't.d1', dataplane: host, stateDir, log: (l) => logs.push(l), verifyIntervalMs: 60_000 });
}

describe("the engine's state files", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('corrupt ipvs-owned.json and director-sysctls.json: logged by name, the apply succeeds, both rewritten', async () => {
    const p = statePaths(dir);
    await writeFile(p.ipvsOwned, '["tcp:10.99.0.50:80"');
    await writeFile(p.directorSysctls, '[1, 2]');
    const host = new MemoryHost();
    const logs: string[] = [];
    const e = engine(host, dir, logs);
    expect(await e.apply(director, 1)).toEqual({ ok: true, errors: [] });
    for (const f of [p.ipvsOwned, p.directorSysctls])
      expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^state file ${f} is corrupt \\(.+\\); starting without it$`)));
    expect(JSON.parse(await readFile(p.ipvsOwned, 'utf8'))).toEqual(['tcp:10.99.0.50:80']);
    expect(JSON.parse(await readFile(p.directorSysctls, 'utf8'))).toMatchObject({ 'net.ipv4.conf.all.send_redirects': '1' });
    // Read once: later passes neither log it again nor fail.
    expect((await e.verify()).ok).toBe(true);
    expect(logs.filter((l) => l.includes('corrupt'))).toHaveLength(2);
    await e.stop();
  });

  it('a reconcile failing again and again does not rewrite ipvs-owned.json or director-sysctls.json', async () => {
    const p = statePaths(dir);
    const host = new MemoryHost();
    const e = engine(host, dir, []);
    await e.apply(director, 1);
    const before = await Promise.all([stat(p.ipvsOwned), stat(p.directorSysctls)]);
    host.ipvsAvailable = false;
    for (let i = 0; i < 3; i++) expect((await e.verify()).errors).toEqual([expect.stringMatching(/^ipvs: /)]);
    const after = await Promise.all([stat(p.ipvsOwned), stat(p.directorSysctls)]);
    expect(after.map((s) => s.ino)).toEqual(before.map((s) => s.ino));
    await e.stop();
  });
});

describe.skipIf(!canMountTmpfs)('the engine on a full disk', () => {
  let disk: SmallDisk;
  beforeEach(async () => {
    disk = await smallTmpfs();
  });
  afterEach(() => disk.unmount());

  it('converges the host, names every file it could not write, leaves no temp file, stops without throwing, and catches up once there is room', async () => {
    const p = statePaths(disk.dir);
    await disk.fill();
    const host = new MemoryHost();
    const logs: string[] = [];
    const e = engine(host, disk.dir, logs);
    const r = await e.apply(director, 1);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([
      `sysctls: ${p.directorSysctls}: ENOSPC: no space left on device, write`,
      `ipvs: ${p.ipvsOwned}: ENOSPC: no space left on device, write`,
    ]);
    // The kernel got everything; only the bookkeeping is missing.
    expect(host.ipvs.save()).toBe('-A -t 10.99.0.50:80 -s wrr\n-a -t 10.99.0.50:80 -r 10.99.0.21:80 -g -w 1\n');
    expect(host.sysctls.get('net.ipv4.conf.all.send_redirects')).toBe('0');
    await e.idle();
    expect(logs).toContainEqual(`status file: ${p.status}: ENOSPC: no space left on device, write`);
    expect(await readdir(disk.dir)).toEqual(['filler']);

    await disk.free();
    expect(await e.verify()).toEqual({ ok: true, errors: [] });
    expect(JSON.parse(await readFile(p.ipvsOwned, 'utf8'))).toEqual(['tcp:10.99.0.50:80']);
    expect(Object.keys(JSON.parse(await readFile(p.directorSysctls, 'utf8')))).toContain('net.ipv4.conf.all.send_redirects');

    await disk.fill();
    await expect(e.stop()).resolves.toBeUndefined();
    expect(logs.at(-1)).toBe(`status file: ${p.status}: ENOSPC: no space left on device, write`);
    expect((await readdir(disk.dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
