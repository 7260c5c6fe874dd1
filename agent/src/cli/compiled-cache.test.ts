import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFor, NODES, tempDir } from '../engine/engine.test-support.ts';
import { compiledFileText, compiledKey, lookupCompiled, readCompiled, saveCompiled } from './compiled-cache.ts';

const SPEC = 'apiVersion: lvsfleet/v1\nkind: Site\n# the spec text itself is only ever hashed here\n';
const config = configFor({ nodes: NODES, services: [{ name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1' }] }] }, 'd1');
const configText = JSON.stringify(config);
const key = compiledKey('build-a', 'd1', SPEC);
const saved = compiledFileText(key, configText);

describe('lookupCompiled: a saved compile is used only by the build, node and spec text it was made for', () => {
  it('hits with the config as compiled', () => {
    expect(lookupCompiled(saved, key)).toEqual({ hit: true, config });
  });

  it('misses, saying why, for another build, node or spec text (one character added)', () => {
    expect(lookupCompiled(saved, compiledKey('build-b', 'd1', SPEC))).toEqual({ hit: false, why: 'saved by another build (build-a)' });
    expect(lookupCompiled(saved, compiledKey('build-a', 'd2', SPEC))).toEqual({ hit: false, why: 'saved for node "d1"' });
    expect(lookupCompiled(saved, compiledKey('build-a', 'd1', `${SPEC} `))).toEqual({ hit: false, why: 'the spec changed since' });
  });

  it('misses with nothing to say when nothing was saved', () => {
    expect(lookupCompiled(null, key)).toEqual({ hit: false, why: null });
  });

  it('misses on a damaged file: a changed config, a cut one, a first line that is not JSON or holds no hash', () => {
    const [head, body] = [saved.slice(0, saved.indexOf('\n')), saved.slice(saved.indexOf('\n') + 1)];
    const weightChanged = `${head}\n${body.replace('"weight":1', '"weight":9')}`;
    expect(weightChanged).not.toBe(saved);
    expect(lookupCompiled(weightChanged, key)).toEqual({ hit: false, why: 'damaged (its config does not match its hash)' });
    expect(lookupCompiled(saved.slice(0, -10), key)).toEqual({ hit: false, why: 'damaged (its config does not match its hash)' });
    expect(lookupCompiled(head, key)).toEqual({ hit: false, why: 'damaged (no config after its first line)' });
    expect(lookupCompiled(`{"build":\n${body}`, key)).toEqual({ hit: false, why: 'damaged (its first line is not JSON)' });
    expect(lookupCompiled(`[1]\n${body}`, key)).toEqual({ hit: false, why: 'damaged (no config after its first line)' });
  });

  it('misses when the config inside, hash and all, is not JSON or names another node', () => {
    const notJson = compiledFileText(key, '{"node":');
    expect(lookupCompiled(notJson, key)).toEqual({ hit: false, why: 'damaged (its config is not JSON)' });
    const other = compiledFileText(key, JSON.stringify({ ...config, node: { ...config.node, name: 'd2' } }));
    expect(lookupCompiled(other, key)).toEqual({ hit: false, why: 'damaged (its config is for another node)' });
  });
});

describe('saveCompiled and readCompiled', () => {
  let dir = '';
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('round-trip through a file only its owner reads, leaving no temp file; the next save replaces it', async () => {
    const path = join(dir, 'state', 'standalone-compiled.json');
    await saveCompiled(path, key, configText);
    expect(await readFile(path, 'utf8')).toBe(saved);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readCompiled(path, key)).toEqual({ hit: true, config });
    const next = compiledKey('build-a', 'd1', `${SPEC}# edited\n`);
    await saveCompiled(path, next, configText);
    expect(await readCompiled(path, key)).toEqual({ hit: false, why: 'the spec changed since' });
    expect(await readCompiled(path, next)).toEqual({ hit: true, config });
    expect(await readdir(join(dir, 'state'))).toEqual(['standalone-compiled.json']);
  });

  it('reads a missing file as nothing saved, and one it cannot read as a miss that names the error', async () => {
    const path = join(dir, 'standalone-compiled.json');
    expect(await readCompiled(path, key)).toEqual({ hit: false, why: null });
    // A directory where the file should be: EISDIR.
    const r = await readCompiled(dir, key);
    expect(r.hit).toBe(false);
    expect(!r.hit && r.why).toMatch(/^unreadable \(EISDIR/);
  });
});
