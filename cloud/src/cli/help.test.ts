import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, type CommandSpec } from './command-table.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';
import { VERSION } from './version.ts';

/** Every command and subcommand of the table, with the words that name it. */
function walk(): { path: string[]; spec: CommandSpec }[] {
  return COMMANDS.flatMap((c) => [{ path: [c.name], spec: c }, ...(c.subcommands ?? []).map((s) => ({ path: [c.name, s.name], spec: s }))]);
}

async function cli(args: string[]) {
  const io = memoryIO({});
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('the command table', () => {
  it.each(walk().map((w) => [w.path.join(' '), w] as const))(
    '%s has a summary, a usage line, examples and answers --help and -h with them',
    async (_, { path, spec }) => {
      expect(spec.summary.length).toBeGreaterThan(5);
      expect(spec.usage.length).toBeGreaterThan(0);
      for (const u of spec.usage) expect(u.startsWith(path.join(' '))).toBe(true);
      expect(spec.examples.length).toBeGreaterThan(0);
      for (const e of spec.examples) expect(e).toMatch(new RegExp(`lvsfleet ${path[0]}\\b`));
      for (const f of spec.flags ?? []) expect(f.help, `--${f.name}`).not.toBe('');
      for (const flag of ['--help', '-h']) {
        const r = await cli([...path, flag]);
        expect(r).toMatchObject({ code: 0, err: '' });
        expect(r.out).toContain(`usage:\n  lvsfleet ${spec.usage[0]}`);
        expect(r.out).toContain(`examples:\n  ${spec.examples[0]}`);
        for (const f of spec.flags ?? []) expect(r.out).toContain(`--${f.name}`);
        for (const s of spec.subcommands ?? []) expect(r.out).toMatch(new RegExp(`^  ${s.name} +${s.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      }
    },
  );

  it('every top-level command loads and its --help works even after other flags', async () => {
    for (const c of COMMANDS) expect(typeof (await c.load!()).run).toBe('function');
    expect((await cli(['diff', '-f', 'x.yaml', '--help'])).out).toContain('lvsfleet diff -f FILE');
    expect((await cli(['--context', 'prod', 'token', 'create', '--help'])).out).toContain('lvsfleet token create NAME');
    expect((await cli(['help', 'webhook', 'add'])).out).toContain('lvsfleet webhook add URL');
  });

  it('every command module (a file in commands/ exporting run) has its entry in the table', async () => {
    const dir = new URL('./commands/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.includes('.test'));
    const withRun: string[] = [];
    for (const f of files) if (typeof ((await import(new URL(f, dir).href)) as { run?: unknown }).run === 'function') withRun.push(f.replace(/\.ts$/, ''));
    expect(withRun.length).toBeGreaterThan(10);
    expect(withRun.filter((name) => !COMMANDS.some((c) => c.name === name))).toEqual([]);
  });

  it('a `--help` after `--` is an argument, not a request for help', async () => {
    const r = await cli(['validate', '--', '--help']);
    expect(r.code).toBe(2);
  });
});

describe('lvsfleet --help, --version', () => {
  it('lists every command and says where the server and token come from', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
    expect(r.out).toContain('--url URL');
    expect(r.out).toContain('first found wins: --url and --token; --context NAME; LVSFLEET_URL');
  });

  it('without a command prints the usage and exits 2; an unknown command exits 2', async () => {
    expect((await cli([])).code).toBe(2);
    expect(await cli(['frob'])).toMatchObject({ code: 2, err: 'lvsfleet: unknown command "frob"; lvsfleet --help lists them\n' });
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(await cli(['--version'])).toEqual({ code: 0, out: `lvsfleet ${pkg.version}\n`, err: '' });
  });
});
