import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptPolicyFromFlags } from './script-flags.ts';

let dir: string;
let passwd: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsfleet-script-flags-'));
  passwd = join(dir, 'passwd');
  await writeFile(passwd, 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n');
  await symlink(dir, join(dir, 'link'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('--allow-scripts and --script-user', () => {
  it('default: no directory, keepalived_script when the host has it, else nobody; root never by default', async () => {
    expect(await scriptPolicyFromFlags(undefined, undefined, passwd)).toEqual({ allowDirs: [], user: 'nobody', rootAllowed: false });
    const withKs = join(dir, 'passwd-ks');
    await writeFile(withKs, 'keepalived_script:x:998:998::/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534::/:/bin/false\n');
    expect((await scriptPolicyFromFlags(undefined, undefined, withKs)).user).toBe('keepalived_script');
  });

  it('keeps each allowed directory as its real path, and root only when named', async () => {
    expect(await scriptPolicyFromFlags([join(dir, 'link'), dir], 'root', passwd)).toEqual({ allowDirs: [dir, dir], user: 'root', rootAllowed: true });
  });

  it('refuses a relative or missing directory, a file, and an unknown user, naming the flag', async () => {
    await expect(scriptPolicyFromFlags(['scripts'], undefined, passwd)).rejects.toThrow('--allow-scripts: expected an absolute directory, got "scripts"');
    await expect(scriptPolicyFromFlags([join(dir, 'nope')], undefined, passwd)).rejects.toThrow(/--allow-scripts: .*nope is not an existing directory/);
    await expect(scriptPolicyFromFlags([passwd], undefined, passwd)).rejects.toThrow(/is not an existing directory/);
    await expect(scriptPolicyFromFlags(undefined, 'ghost', passwd)).rejects.toThrow(`--script-user: no user "ghost" in ${passwd}`);
  });

  it("names the config file's field when the value came from there", async () => {
    const names = { allow: 'scripts.allow in /etc/lvsfleet/agent.json', user: 'scripts.user in /etc/lvsfleet/agent.json' };
    await expect(scriptPolicyFromFlags(['rel'], undefined, passwd, names)).rejects.toThrow(
      'scripts.allow in /etc/lvsfleet/agent.json: expected an absolute directory',
    );
    await expect(scriptPolicyFromFlags(undefined, 'ghost', passwd, names)).rejects.toThrow('scripts.user in /etc/lvsfleet/agent.json: no user "ghost"');
  });
});
