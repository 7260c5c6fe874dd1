import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { checkConfig, configPath, readConfig } from './cli-config.ts';
import { resolveConnection } from './connection.ts';
import { extractGlobalFlags } from './global-flags.ts';
import { main } from './main.ts';
import { memoryIO } from './test-io.test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config home with contexts `lab` (current) and `prod`, each with its token file. */
function home(name: string): Record<string, string> {
  const xdg = join(dir, name);
  const env = { XDG_CONFIG_HOME: xdg, HOME: join(dir, `${name}-home`) };
  writeFileSync(join(dir, `${name}-lab.token`), 'lab-token\n');
  writeFileSync(join(dir, `${name}-prod.token`), 'prod-token');
  return env;
}

async function cli(args: string[], env: Record<string, string | undefined>) {
  const io = memoryIO(env, '', dir);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('extractGlobalFlags', () => {
  it('takes --url, --token and --context anywhere before --, in both spellings', () => {
    expect(extractGlobalFlags(['get', '--url', 'http://a', 'sites', '--token=t', '--', '--context', 'x'])).toEqual({
      argv: ['get', 'sites', '--', '--context', 'x'],
      flags: { url: 'http://a', token: 't' },
    });
  });

  it('leaves a flag the command declares itself, and refuses a missing or repeated value', () => {
    expect(extractGlobalFlags(['set-context', 'a', '--url', 'http://a'], new Set(['url'])).argv).toEqual(['set-context', 'a', '--url', 'http://a']);
    expect(() => extractGlobalFlags(['--url'])).toThrow('--url needs a value');
    expect(() => extractGlobalFlags(['--token', '--site', 'x'])).toThrow('--token needs a value');
    expect(() => extractGlobalFlags(['--context=a', '--context=b'])).toThrow('--context given twice');
  });
});

describe('the config file', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config, unless LVSFLEET_CONFIG names it', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/lvsfleet/config.yaml');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/lvsfleet/config.yaml');
    expect(configPath({ XDG_CONFIG_HOME: 'relative', HOME: '/h' })).toBe('/h/.config/lvsfleet/config.yaml');
    expect(configPath({ LVSFLEET_CONFIG: '/c.yaml', HOME: '/h' })).toBe('/c.yaml');
  });

  it('names the field that is wrong', () => {
    expect(() => checkConfig({ context: [] }, 'c.yaml')).toThrow('c.yaml: context: unknown field (known: currentContext, contexts)');
    expect(() => checkConfig({ contexts: [{ name: 'a', url: 'ftp://x' }] }, 'c.yaml')).toThrow('c.yaml: contexts[0].url: expected an http:// or https:// URL');
    expect(() => checkConfig({ contexts: [{ name: 'a' }, { name: 'a' }] }, 'c.yaml')).toThrow('contexts[1].name: "a" is listed twice');
    expect(checkConfig(null, 'c.yaml')).toEqual({ contexts: [] });
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'contexts: [\n');
    expect(() => readConfig(broken)).toThrow(UsageError);
  });
});

describe('lvsfleet config and the precedence of server and token', () => {
  it('set-context writes a 0600 file, the first context becomes current; use-context and get-contexts', async () => {
    const env = home('a');
    expect(await cli(['config', 'get-contexts'], env)).toMatchObject({ code: 0, out: expect.stringContaining('no contexts in') });
    expect((await cli(['config', 'set-context', 'lab', '--url', 'http://127.0.0.1:47001', '--token-file', join(dir, 'a-lab.token')], env)).code).toBe(0);
    expect((await cli(['config', 'set-context', 'prod', '--url', 'https://lb.example.com', '--token-file', '../a-prod.token'], env)).code).toBe(0);
    const file = join(env.XDG_CONFIG_HOME, 'lvsfleet', 'config.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('currentContext: lab');
    expect((await cli(['config', 'current-context'], env)).out).toBe('lab\n');
    expect((await cli(['config', 'use-context', 'prod'], env)).out).toBe('switched to context "prod"\n');
    const list = await cli(['config', 'get-contexts'], env);
    expect(list.out).toMatch(
      /^CURRENT +NAME +URL +TOKEN FILE\n- +lab +http:\/\/127\.0\.0\.1:47001 .*\n\* +prod +https:\/\/lb\.example\.com +\.\.\/a-prod\.token\n$/,
    );
    expect((await cli(['config', 'get-contexts', '-o', 'name'], env)).out).toBe('lab\nprod\n');
    // set-context changes only what it is given.
    await cli(['config', 'set-context', 'prod', '--url', 'https://lb2.example.com'], env);
    expect(readConfig(file).contexts[1]).toEqual({ name: 'prod', url: 'https://lb2.example.com', tokenFile: '../a-prod.token' });
  });

  it('bad input exits 2 naming what is wrong', async () => {
    const env = home('b');
    expect(await cli(['config', 'use-context', 'nope'], env)).toMatchObject({ code: 2, err: expect.stringContaining('no context "nope"') });
    expect((await cli(['config', 'set-context', 'bad name'], env)).code).toBe(2);
    expect((await cli(['config', 'set-context', 'x', '--url', 'localhost'], env)).err).toContain('--url: expected an http:// or https:// URL');
    expect((await cli(['config', 'frob'], env)).code).toBe(2);
    expect((await cli(['config', 'current-context'], env)).code).toBe(1);
  });

  it('flags beat --context, which beats the variables, which beat the current context', async () => {
    const env = home('c');
    await cli(['config', 'set-context', 'lab', '--url', 'http://lab:1', '--token-file', join(dir, 'c-lab.token')], env);
    await cli(['config', 'set-context', 'prod', '--url', 'http://prod:1', '--token-file', join(dir, 'c-prod.token')], env);
    expect(resolveConnection(env)).toMatchObject({ url: 'http://lab:1', token: 'lab-token', urlFrom: 'context lab', tokenFrom: 'context lab' });
    expect(resolveConnection({ ...env, LVSFLEET_CONTEXT: 'prod' })).toMatchObject({ url: 'http://prod:1', token: 'prod-token' });
    const vars = { ...env, LVSFLEET_URL: 'http://env:1', LVSFLEET_TOKEN: 'env-token' };
    expect(resolveConnection(vars)).toMatchObject({ url: 'http://env:1', token: 'env-token', urlFrom: 'LVSFLEET_URL' });
    expect(resolveConnection(vars, { context: 'prod' })).toMatchObject({ url: 'http://prod:1', token: 'prod-token', urlFrom: 'context prod' });
    expect(resolveConnection(vars, { context: 'prod', url: 'http://flag:1/', token: 'flag-token' })).toEqual({
      url: 'http://flag:1',
      token: 'flag-token',
      urlFrom: '--url',
      tokenFrom: '--token',
    });
    // A variable fills in only what the flags leave open.
    expect(resolveConnection(vars, { url: 'http://flag:1' })).toMatchObject({ url: 'http://flag:1', token: 'env-token' });
    expect(() => resolveConnection(env, { context: 'nope' })).toThrow('--context names context "nope", which');
    expect(resolveConnection({ HOME: join(dir, 'nobody') })).toEqual({ url: 'http://127.0.0.1:8080', urlFrom: 'default' });
    expect(() => resolveConnection({ HOME: '/', LVSFLEET_URL: 'lb.example.com' })).toThrow('LVSFLEET_URL: expected an http:// or https:// URL');
  });

  it('a missing token file is an error naming the context and the file (exit 2)', async () => {
    const env = home('d');
    await cli(['config', 'set-context', 'lab', '--url', 'http://127.0.0.1:1', '--token-file', 'missing.token'], env);
    const r = await cli(['get', 'sites'], env);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`context lab: cannot read its token file ${join(env.XDG_CONFIG_HOME, 'lvsfleet', 'missing.token')}: ENOENT`);
  });
});
