import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { afterAll } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { publisherState, sitePublishers } from './site.test-support.ts';

/**
 * Every file ends with each site's publisher idle: no drain under way and no alarm set. An apply
 * wakes its site's publisher, and its alarm could still be draining, or only be due, when the
 * file's last test returned; it then ran on in the next file, where workerd refused its I/O
 * ("Cannot perform I/O on behalf of a different Durable Object", the runner's console included)
 * and the run hung. Each file waits for what it checks itself; an alarm still set here is dropped
 * (its site's rows wait for the next wake, as they would for the cron).
 */
afterAll(async () => {
  const ns = sitePublishers();
  for (const id of await listDurableObjectIds(ns)) {
    const stub = ns.get(id);
    await waitFor(
      async () => {
        // A drain ending now may set its next alarm: drop it, then look again.
        await runInDurableObject(stub, (_, state) => state.storage.deleteAlarm());
        const s = await publisherState(stub);
        return s.drainingSince === null && s.alarmAt === null;
      },
      { timeoutMs: 60_000, intervalMs: 50, what: `site publisher ${id.toString()} to be idle` },
    );
  }
}, 120_000);
