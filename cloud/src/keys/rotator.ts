import { startSerialLoop } from '#shared/util/serial-loop.ts';
import type { Db } from '../db/client.ts';
import { applyRotationStep, readKeyRows, readNodeKeys } from './key-store.ts';
import { awaitsNodes, planRotation } from './rotation.ts';
import type { Signer } from './signing.ts';

export interface RotatorOptions {
  db: Db;
  signer: Signer;
  /** The key set changed (a rotation step here, or `keys rotate` through the API): publish every node's document again. */
  onKeysChanged: () => void;
  /** A node report older than this is not online (the status model's window). */
  staleAfterMs: number;
  log: (line: string) => void;
  /** Period of the loop (default 1000 ms); acknowledgements arrive with node status. */
  pollMs?: number;
}

export interface Rotator {
  /** Runs a step soon (after `keys rotate`). */
  kick(): void;
  /** One step: record what nodes acknowledged, promote or retire keys, reload the signer. */
  step(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The shell of key rotation (cloud/src/keys/rotation.ts decides): reads the keys and what every
 * enrolled node reported pinned, applies the step, and when the key set moved (here or through
 * the API, maybe in another process) reloads the signer and has every document published again.
 * Run one per database, beside the publisher.
 */
/**
 * One rotation step (the Node loop below and the Workers cron's KeyRotator both run it): reads the
 * keys and what every enrolled node reported pinned, and applies what `planRotation` decides.
 * Answers whether a key changed state.
 */
export async function rotationStep(db: Db, now: Date, staleAfterMs: number, log: (line: string) => void): Promise<boolean> {
  const rows = await readKeyRows(db);
  if (!awaitsNodes(rows)) return false;
  const plan = planRotation(rows, await readNodeKeys(db, now, staleAfterMs));
  if (!(await applyRotationStep(db, plan, now))) return false;
  if (plan.promote) log(`keys: ${plan.promote} announced→active (every online node pinned it)`);
  for (const kid of plan.retire) log(`keys: ${kid} retiring→retired (every node pinned a newer key)`);
  return true;
}

export function startRotator(o: RotatorOptions): Rotator {
  async function stepOnce(): Promise<void> {
    if (loop.closed) return;
    await rotationStep(o.db, new Date(), o.staleAfterMs, o.log);
    if (await o.signer.reload()) {
      o.log(`keys: key set generation ${o.signer.generation}, signing with ${o.signer.kid}; publishing every node's document again`);
      o.onKeysChanged();
    }
  }

  const loop = startSerialLoop(stepOnce, { pollMs: o.pollMs ?? 1000, onError: (err) => o.log(`keys: rotation step failed: ${err.message}`) });

  return { kick: () => loop.kick(), step: () => loop.run(), close: () => loop.close() };
}
