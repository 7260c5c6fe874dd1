import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptLauncher } from './launcher.ts';
import type { ScriptPolicy, ScriptRefusal } from './policy.ts';

/** Switching to the script user needs root; the tests that run scripts for real skip without it. */
export const NOT_ROOT = process.getuid?.() !== 0 ? 'running scripts as another user needs root' : null;

/**
 * A root-owned 0755 script directory outside /tmp (sticky, world-writable /tmp is exactly what the
 * policy refuses), an output directory the script user may write to, and launchers over them.
 */
export async function scriptFixture(): Promise<{
  dir: string;
  out: string;
  write(name: string, body: string, mode?: number): Promise<string>;
  launcher(policy?: Partial<ScriptPolicy>, refused?: [string, ScriptRefusal][]): ScriptLauncher;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp('/run/lvsfleet-scripts-');
  await chmod(dir, 0o755);
  const out = await mkdtemp(join(tmpdir(), 'lvsfleet-script-out-'));
  await chmod(out, 0o777);
  return {
    dir,
    out,
    async write(name, body, mode = 0o755) {
      const path = join(dir, name);
      await writeFile(path, `#!/bin/sh\n${body}\n`);
      await chmod(path, mode);
      return path;
    },
    launcher: (policy = {}, refused) =>
      new ScriptLauncher({ allowDirs: [dir], user: 'nobody', rootAllowed: false, ...policy }, { onRefused: (c, r) => refused?.push([c, r]) }),
    cleanup: async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
    },
  };
}
