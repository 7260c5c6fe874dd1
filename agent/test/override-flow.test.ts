import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { loopbackSiteYaml } from '../src/site-yaml.test-support.ts';

/** The loopback site with a second real server, so draining r1 leaves web one to serve. */
const SITE = `${loopbackSiteYaml('ov', 2)}        - { address: 127.0.0.3, weight: 1 }\n`;
import { startEmbeddedStack, type EmbeddedStack } from './embedded-stack.test-support.ts';

/**
 * Overrides end to end on the embedded stack (`lvsfleet serve`, a dry-run director agent): `lvsfleet
 * drain --wait` returns once the director reports the drain done, the dry-run dataplane shows the
 * real server edited to weight 0 (no new revision), and at `until` the agent puts the revision's
 * weight back by itself; the cloud's sweep then records the expiry.
 */
describe('overrides on the embedded stack', () => {
  let stack: EmbeddedStack | undefined;
  afterAll(async () => stack?.close());

  it('drain r1 --for 8s --wait: weight 0 on the director, back to the revision at expiry, expiry recorded', async () => {
    stack = await startEmbeddedStack();
    const s = stack;
    expect((await s.put('ov', SITE)).status).toBe(200);
    const agent = await s.agent('ov', 'd1');
    let at = await agent.waitForOutput(/apply revision 1 succeeded/);
    // The agent's first status must reach the cloud before --wait can see anything.
    await waitFor(async () => ((await (await s.api('/v1/sites/ov/status')).json()) as { nodes: { online: boolean }[] }).nodes.some((n) => n.online), {
      timeoutMs: 30_000,
      what: 'd1 online',
    });

    const drain = s.cli(['drain', 'ov', 'r1', '--for', '8s', '--reason', 'kernel update', '--wait', '--timeout', '60s']);
    expect(await drain.exited, drain.output()).toBe(0);
    expect(drain.output()).toMatch(/r1 drained for kernel update until \d\d:\d\d UTC by /);
    expect(drain.output()).toMatch(/ov\.d1: drained, 0 active connection\(s\)/);
    at = await agent.waitForOutput(/received revision 1 with 1 override\(s\) \(generation 1\)/, at);
    expect(agent.output()).toContain('-e -t 127.0.0.50:8080 -r 127.0.0.2:8080 -g -w 0');
    expect(((await (await s.api('/v1/sites/ov')).json()) as { revision: number }).revision).toBe(1);
    const status = (await (await s.api('/v1/sites/ov/status')).json()) as { overrides: { summary: string }[] };
    expect(status.overrides.map((o) => o.summary)).toEqual([expect.stringMatching(/^r1 drained for kernel update until/)]);

    // At `until` the agent reverts on its own clock; the cloud's sweep then sends generation 2 without it.
    at = await agent.waitForOutput(/overrides: drain-realserver \S+ ended; running revision 1 as published/, at, 30_000);
    // The revert's batch (an edit back to weight 2: only the revert edits) is logged around that
    // line, after it in the run that failed on reading the output at once.
    await agent.waitForOutput(/-e -t 127\.0\.0\.50:8080 -r 127\.0\.0\.2:8080 -g -w 2/, Math.max(0, at - 2000), 10_000);
    await waitFor(
      async () => {
        const st = (await (await s.api('/v1/sites/ov/status')).json()) as { events: { type: string }[]; overrides: unknown[] };
        return st.events.some((e) => e.type === 'override.expired') && st.overrides.length === 0;
      },
      { timeoutMs: 30_000, what: 'override.expired recorded by the sweep' },
    );
    expect(agent.output()).not.toMatch(/config rejected/);
  }, 240_000);
});
