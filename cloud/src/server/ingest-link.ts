import type { Db } from '../db/client.ts';

/** The status ingest's interface (cloud/src/ingest/ingest.ts `startIngest`). */
type StartIngest = (opts: { db: Db; mqttUrl: string; username?: string; password?: string; log?: (line: string) => void }) => Promise<{ close(): Promise<void> }>;

/**
 * Starts the status ingest when this build has it, else answers null. The ingest module is
 * written in parallel with the server; the specifier is computed so the server builds and runs
 * (and says so) while it is missing.
 */
export async function startStatusIngest(opts: Parameters<StartIngest>[0]): Promise<{ close(): Promise<void> } | null> {
  const specifier = ['..', 'ingest', 'ingest.ts'].join('/');
  let mod: { startIngest?: StartIngest };
  try {
    mod = (await import(specifier)) as { startIngest?: StartIngest };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
  if (!mod.startIngest) return null;
  return mod.startIngest(opts);
}
