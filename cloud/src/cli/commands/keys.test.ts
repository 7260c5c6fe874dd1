import { describe, expect, it } from 'vitest';
import { useTestApp } from '../../api/test-app.test-support.ts';
import { loadSigner } from '../../keys/signing.ts';
import { main } from '../main.ts';
import { memoryIO } from '../test-io.test-support.ts';

const t = useTestApp({ listen: true });

async function cli(args: string[], as: 'admin' | 'viewer' = 'admin') {
  const io = memoryIO({ LVSFLEET_URL: t.url, LVSFLEET_TOKEN: t.tokens[as] }, '', process.cwd());
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('lvsfleet keys', () => {
  it('rotate announces a key, a second rotate exits 1 naming the key in progress; list shows both with their state', async () => {
    const active = await loadSigner(t.db.db);
    const r = await cli(['keys', 'rotate']);
    expect(r.code).toBe(0);
    const kid = /^key (\S+) announced \(vouched for by (\S+), key set generation 2\)/.exec(r.out);
    expect(kid?.[2]).toBe(active.kid);
    const again = await cli(['keys', 'rotate']);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`key ${kid![1]} is announced and not active yet`);

    const list = await cli(['keys', 'list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(
      new RegExp(
        `^KID +STATE +CREATED +PREVIOUS +PINNED BY +MISSING\\n${active.kid} +active .* - +0 +-\\n${kid![1]} +announced .* ${active.kid} +0 +-\\nkey set generation 2\\n$`,
      ),
    );
    const json = JSON.parse((await cli(['keys', 'list', '-o', 'json'])).out) as { generation: number; keys: { state: string }[] };
    expect(json.keys.map((k) => k.state)).toEqual(['active', 'announced']);
  });

  it('needs an admin token; bad usage exits 2', async () => {
    const viewer = await cli(['keys', 'list'], 'viewer');
    expect(viewer.code).toBe(1);
    expect(viewer.err).toMatch(/scope admin/);
    expect((await cli(['keys'])).code).toBe(2);
    expect((await cli(['keys', 'rotate', 'now'])).code).toBe(2);
    expect((await cli(['keys', 'list', '-o', 'xml'])).code).toBe(2);
  });
});
