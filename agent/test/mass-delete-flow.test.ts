import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack, type EmbeddedStack } from './embedded-stack.test-support.ts';

/**
 * The mass-delete rule end to end on the embedded stack: a change that removes 2 of 3 real
 * servers is refused by the API without force (409, nothing stored or published) and, with
 * `apply --force`, reaches the director, whose guard lets exactly that revision through.
 */
const site = (servers: string[]) => `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: md }
spec:
  nodes:
    - { name: d1, role: director, address: 127.0.0.1, interface: lo }
  services:
    - name: web
      vip: 127.0.0.50
      port: 8080
      scheduler: wrr
      realServers:
${servers.map((a) => `        - { address: ${a}, weight: 1 }`).join('\n')}
`;

describe('mass delete on the embedded stack', () => {
  let stack: EmbeddedStack | undefined;
  afterAll(async () => stack?.close());

  it('refuses without --force and publishes nothing; with --force the director applies the deletes', async () => {
    stack = await startEmbeddedStack();
    const s = stack;
    expect((await s.put('md', site(['127.0.0.2', '127.0.0.3', '127.0.0.4']))).status).toBe(200);
    const agent = await s.agent('md', 'd1');
    const at = await agent.waitForOutput(/apply revision 1 succeeded/);
    expect(agent.output()).toContain('-a -t 127.0.0.50:8080 -r 127.0.0.4:8080');

    const refused = await s.put('md', site(['127.0.0.2']));
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('mass_delete');
    expect(((await (await s.api('/v1/sites/md')).json()) as { revision: number }).revision).toBe(1);

    // Through the CLI, as an operator would: `lvsfleet apply --force`.
    const file = `${s.dir}/md.yaml`;
    await writeFile(file, site(['127.0.0.2']));
    const apply = s.cli(['apply', '-f', file, '--force']);
    expect(await apply.exited).toBe(0);
    expect(apply.output()).toContain('revision 2 stored');
    await agent.waitForOutput(/apply revision 2 succeeded/, at);
    const out = agent.output();
    expect(out).not.toMatch(/MASS_DELETE|refusing to remove/);
    expect(out).toContain('-d -t 127.0.0.50:8080 -r 127.0.0.3:8080');
    expect(out).toContain('-d -t 127.0.0.50:8080 -r 127.0.0.4:8080');
    // Nothing was published between revision 1 and the forced revision 2.
    expect(out.match(/apply revision \d+ succeeded/g)).toEqual(['apply revision 1 succeeded', 'apply revision 2 succeeded']);
  }, 240_000);
});
