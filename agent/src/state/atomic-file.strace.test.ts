import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const STRACE = '/usr/bin/strace';
const haveStrace = existsSync(STRACE);
if (!haveStrace) console.warn(`the saves' system-call order is not checked: it needs ${STRACE} (apt-get install strace)`);

/** One completed system call as strace printed it: its name, its text (arguments and result), and its place in completion order. */
interface Call {
  name: string;
  text: string;
  at: number;
}

/**
 * strace -f's lines as whole calls: a call another thread interrupted is printed `<unfinished ...>`
 * and completed later on a `<... NAME resumed>` line of the same thread; it is placed where it completed.
 */
function completedCalls(log: string): Call[] {
  const pending = new Map<string, string>();
  const out: Call[] = [];
  for (const line of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m;
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    const text = resumed ? (pending.get(pid) ?? `${resumed[1]}(`) + resumed[2] : rest;
    pending.delete(pid);
    const name = /^(\w+)\(/.exec(text)?.[1];
    if (name) out.push({ name, text, at: out.length });
  }
  return out;
}

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsf-strace-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/**
 * What makes a durable save survive a crash is the order of its system calls: the temp file's data
 * on disk (fsync) before the rename puts it in place, and the directory's entry on disk (fsync of
 * the directory) before the save answers. Which steps run on libuv's threads and which are called
 * directly changes nothing of it; this checks the calls a real save makes, traced by strace.
 */
describe.skipIf(!haveStrace)("writeFileAtomic's system calls, traced", () => {
  it('a durable save with a backup: data fsynced before the rename, the directory fsynced after it; a report: no fsync', async () => {
    const target = join(dir, 'desired.json');
    const report = join(dir, 'status.json');
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(new URL('./atomic-file.ts', import.meta.url).pathname)});
      await writeFileAtomic(${JSON.stringify(target)}, '{"v":1}', { backup: true });
      await writeFileAtomic(${JSON.stringify(target)}, '{"v":2}', { backup: true });
      await writeFileAtomic(${JSON.stringify(report)}, '{"up":true}', { durable: false });
    `;
    const log = join(dir, 'strace.log');
    await run(
      STRACE,
      [
        '-f',
        '-qq',
        '-o',
        log,
        '-e',
        'trace=openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat,close',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ],
      {
        timeout: 60_000,
      },
    );
    expect(await readFile(target, 'utf8')).toBe('{"v":2}');
    const calls = completedCalls(await readFile(log, 'utf8'));
    const fdOf = (c: Call) => Number(/= (\d+)$/.exec(c.text)?.[1]);
    const isSync = (c: Call) => /^f(data)?sync$/.test(c.name);
    /** The fsyncs of the descriptor `opened` returned, while it stayed open (descriptor numbers are reused). */
    const fsyncs = (opened: Call) => {
      const fd = fdOf(opened);
      const closed = calls.find((c) => c.name === 'close' && c.text.startsWith(`close(${fd})`) && c.at > opened.at)?.at ?? Infinity;
      return calls.filter((c) => isSync(c) && c.text.startsWith(`${c.name}(${fd})`) && c.at > opened.at && c.at < closed);
    };
    const renames = (to: string) => calls.filter((c) => c.name.startsWith('rename') && c.text.includes(`"${to}"`));

    // The second save (the first had nothing to back up): temp created, written, fsynced, backup linked, renamed, directory fsynced.
    const temps = calls.filter((c) => c.name === 'openat' && c.text.includes(`"${target}.tmp-`) && c.text.includes('O_CREAT'));
    expect(temps).toHaveLength(2);
    const second = temps[1];
    const [dataSync] = fsyncs(second);
    const [rename] = renames(target).filter((c) => c.at > second.at);
    const [backup] = renames(`${target}.bak`);
    expect(dataSync, 'the temp file fsynced').toBeDefined();
    expect(rename, 'renamed over the target').toBeDefined();
    expect(backup, 'the backup renamed into place').toBeDefined();
    expect(dataSync.at).toBeLessThan(rename.at);
    expect(backup.at).toBeLessThan(rename.at);
    const dirOpen = calls.find((c) => c.name === 'openat' && c.text.includes(`"${dir}"`) && c.at > rename.at);
    expect(dirOpen, 'the directory opened after the rename').toBeDefined();
    expect(fsyncs(dirOpen!), 'the directory fsynced').not.toHaveLength(0);

    // The report: created, renamed, no fsync of its temp nor of the directory after its rename.
    const reportTemp = calls.find((c) => c.name === 'openat' && c.text.includes(`"${report}.tmp-`))!;
    const [reportRename] = renames(report);
    expect(reportRename.at).toBeGreaterThan(reportTemp.at);
    expect(fsyncs(reportTemp)).toEqual([]);
    expect(calls.filter((c) => c.at > reportRename.at && isSync(c))).toEqual([]);
  });
});
