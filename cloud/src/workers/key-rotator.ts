import { readKeyRows } from '../keys/key-store.ts';
import { generationOf } from '../keys/rotation.ts';
import { rotationStep } from '../keys/rotator.ts';
import { STALE_AFTER_MS } from '../status/book.ts';
import { openWorkerDb } from './db.ts';
import type { DurableObjectState, Env } from './env.ts';
import { wakeEveryPublisher } from './site-publisher.ts';

/**
 * Key rotation on Workers: the cron (`scheduled()`) and `POST /v1/keys/rotate` ask this one
 * Durable Object for a step, so steps never overlap (Node runs one rotator beside its publisher).
 * A step is the Node rotator's (`rotationStep`: promote the announced key once every online node
 * pinned it, retire a key every node has a successor of). When the key set's generation differs
 * from the one it last saw (its own step, or `keys rotate`), it wakes every site's publisher, and
 * each signs its nodes' newest documents again under the new key set. The generation is stored
 * only once every publisher took the wake, so a failed wake is retried at the next step.
 */
export class KeyRotator {
  constructor(
    private readonly state: DurableObjectState,
    private readonly env: Env,
  ) {}

  async fetch(): Promise<Response> {
    const db = openWorkerDb(this.env);
    if (!db) return Response.json({ error: { code: 'unavailable', message: 'no database' } }, { status: 503 });
    const log = (line: string) => console.log(line);
    await rotationStep(db, new Date(), STALE_AFTER_MS, log);
    const generation = generationOf(await readKeyRows(db));
    const seen = await this.state.storage.get<number>('generation');
    let woke = 0;
    if (seen !== generation) {
      woke = await wakeEveryPublisher(db, this.env);
      if (seen !== undefined) log(`keys: key set generation ${seen}→${generation}; ${woke} site publisher(s) sign their documents again`);
      await this.state.storage.put('generation', generation);
    }
    return Response.json({ generation, woke });
  }
}

/** One rotation step in the KeyRotator (the cron, and after `keys rotate`). */
export async function keyStep(env: Env): Promise<void> {
  const res = await env.KEY_ROTATOR.get(env.KEY_ROTATOR.idFromName('keys')).fetch('https://key-rotator/step', { method: 'POST' });
  if (!res.ok) throw new Error(`key rotation step answered ${res.status}: ${await res.text()}`);
}
