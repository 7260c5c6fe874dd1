// The kernel lab ends what it started when it is killed: boot.sh and lab-self-test.sh run with a
// stand-in for qemu (LAB_QEMU: a script that records its PID and sleeps), get a signal, and the
// stand-in's whole process group (qemu, the console filters, the watchdog) must be gone.
// The real lab (qemu, kernel, initramfs) is not run here.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = import.meta.dirname;
let dir: string;
const started: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kernel-lab-children-'));
  // Records its PID and process group, prints its arguments like a console would, then sleeps (or exits with
  // STAND_IN_RC, which boot.sh decodes like an isa-debug-exit status).
  writeFileSync(
    join(dir, 'qemu'),
    '#!/usr/bin/env bash\necho "$$ $(ps -o pgid= -p $$)" > "$STAND_IN_PIDFILE"\necho "stand-in qemu $*"\n[ -n "${STAND_IN_RC:-}" ] && exit "$STAND_IN_RC"\nexec sleep 300\n',
  );
  chmodSync(join(dir, 'qemu'), 0o755);
});

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

/** State letter and process group of a PID, or undefined when it no longer exists. */
function stat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
    return { state: rest[0], pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Processes of group `pgrp` that are not zombies (a zombie holds no CPU or memory). */
function liveMembers(pgrp: number): number[] {
  return readdirSync('/proc')
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return s !== undefined && s.pgrp === pgrp && s.state !== 'Z';
    });
}

/** Waits until no process of the group is left. */
async function groupEnded(pgrp: number): Promise<void> {
  const left = () =>
    liveMembers(pgrp)
      .map((pid) => `; ${pid} ${stat(pid)?.state} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`)
      .join('');
  await until(`group ${pgrp} to end`, () => (liveMembers(pgrp).length === 0 ? true : undefined), left);
}

async function until<T>(what: string, probe: () => T | undefined, detail = () => ''): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Starts `cmd args` with the stand-in as qemu; resolves once the stand-in runs. */
async function launch(name: string, cmd: string, args: string[], env: Record<string, string> = {}) {
  const pidfile = join(dir, `${name}.pid`);
  const child = spawn(cmd, args, {
    env: { ...process.env, LAB_QEMU: join(dir, 'qemu'), STAND_IN_PIDFILE: pidfile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exit = exited(child);
  started.push(child.pid!);
  const [standIn, group] = await until('the stand-in to start', () => {
    const ids = existsSync(pidfile) ? readFileSync(pidfile, 'utf8').trim().split(/\s+/).map(Number) : [];
    return ids.length === 2 ? ids : undefined;
  });
  started.push(standIn);
  return { child, exit, standIn, group, output: () => output };
}

const labArgs = (script: string, name: string) => [join(here, script), join(dir, 'vmlinux'), join(dir, 'initrd'), join(dir, `${name}.log`)];
const bootArgs = (name: string) => labArgs('boot.sh', name);
const selfTestArgs = (name: string) => labArgs('lab-self-test.sh', name);

describe('kernel lab clean-up', () => {
  it('boot.sh runs the guest in a process group of its own and returns its result', async () => {
    const run = await launch('result', 'bash', bootArgs('result'), { STAND_IN_RC: String((1 << 1) | 1) });
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.group).not.toBe(stat(process.pid)!.pgrp);
    expect(readFileSync(join(dir, 'result.log'), 'utf8')).toContain('stand-in qemu -accel tcg');
    await groupEnded(run.group);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const)('boot.sh killed with %s ends qemu and its helpers', async (signal, code) => {
    const run = await launch(signal, 'bash', bootArgs(signal));
    expect(liveMembers(run.group)).toContain(run.standIn);
    run.child.kill(signal);
    expect(await run.exit).toEqual({ code, signal: null });
    await groupEnded(run.group);
  });

  it('boot.sh killed with SIGKILL (no trap runs): the watchdog ends the guest group', async () => {
    const run = await launch('kill', 'bash', bootArgs('kill'));
    run.child.kill('SIGKILL');
    expect(await run.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await groupEnded(run.group);
  });

  it('lab-self-test.sh killed with SIGTERM ends the boot it started and its qemu', async () => {
    const run = await launch('self-test', 'bash', selfTestArgs('self-test'));
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 143, signal: null });
    await groupEnded(run.group);
  });

  it.each([0, 2, 20])('a second SIGTERM %i ms after the first does not cut the clean-up short', async (ms) => {
    // What `timeout` does (its TERM to the script, then to its group): before the fix the second
    // TERM's trap exited the script from inside its clean-up, before boot.sh was signalled, every
    // time at 1–20 ms apart.
    const run = await launch(`twice-${ms}`, 'bash', selfTestArgs(`twice-${ms}`));
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, ms));
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 143, signal: null });
    await groupEnded(run.group);
  });

  it('an outer timeout that signals its whole process group leaves no qemu behind', async () => {
    // coreutils timeout signals its own process group, which the old runner's qemu (under its
    // own `timeout`, in a group of its own) never received.
    const run = await launch('outer', 'timeout', ['4', 'bash', ...selfTestArgs('outer')]);
    expect(await run.exit).toEqual({ code: 124, signal: null });
    await groupEnded(run.group);
    expect(run.output()).not.toContain('NOT OK');
  });
});
