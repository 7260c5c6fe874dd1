/**
 * The README's keepalived migration walkthrough runs as written: every `npx lvsfleet …` line of
 * its code block is run in process from the repository root (`> FILE` goes to a scratch
 * directory), on the example files it names, and each exits 0 with nothing but warnings. A README
 * edit that names a file the repository does not have, or a command that fails, fails here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateSite } from '#shared/site/validate.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';

const REPO = resolve(import.meta.dirname, '../../..');
const scratch = mkdtempSync(join(tmpdir(), 'lvsfleet-walkthrough-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The commands of the shell block under "### Migrating a keepalived pair", continuation lines joined, comments dropped. */
function walkthrough(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Migrating a keepalived pair'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md: no sh block under "Migrating a keepalived pair"');
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe("README's migration walkthrough", () => {
  const commands = walkthrough();

  it('imports, validates and exports the example pair with the files the repository has', () => {
    expect(commands.filter((c) => c.includes(' import ')).length).toBeGreaterThanOrEqual(2);
    expect(commands.join('\n')).toMatch(/examples\/keepalived\/dr1\.conf/);
  });

  it.each(commands)('%s', async (command) => {
    const [cmd, target] = command.split(/\s+>\s+/);
    const words = cmd.split(/\s+/);
    expect(words.slice(0, 2)).toEqual(['npx', 'lvsfleet']);
    // Files written by an earlier line (`> site.yaml`) live in the scratch directory.
    const args = words.slice(2).map((w) => (/^[\w.-]+\.yaml$/.test(w) ? join(scratch, w) : w));
    const io = memoryIO({}, '', REPO);
    const code = await main(args, io);
    expect(code, io.err).toBe(0);
    // Warnings (what an export leaves out) are fine; nothing else on stderr.
    for (const line of io.err.split('\n').filter(Boolean)) expect(line).toMatch(/(^|: )warning: /);
    if (target) writeFileSync(join(scratch, target), io.out);
    if (words[2] === 'import' && words[3] === 'keepalived') expect(validateSite(parse(io.out)).ok).toBe(true);
    // The pair's ipvsadm rules are what its keepalived.conf files run.
    if (words[2] === 'export' && words[3] === 'ipvsadm')
      expect(io.out.trim()).toBe(readFileSync(join(REPO, 'examples/keepalived/ipvsadm.rules'), 'utf8').trim());
  });
});
