import { createHash } from 'node:crypto';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { readFileOrNull, writeFileAtomic } from '../state/atomic-file.ts';

/**
 * A standalone agent's compiled config, kept in its state dir from one start to the next: a
 * restart with the spec file as it was (a crash, a reboot, the unit restarted) takes the config
 * from here instead of parsing, validating and compiling the spec again, which for a YAML spec of
 * 1,000 services is most of a start. Never shared between builds: another build may compile the
 * same spec differently, so the build that wrote it must be the one that reads it.
 *
 * On disk: one line of JSON (the key and the config's SHA-256), then the config as JSON text.
 * The hash catches a file damaged after it was written; the rename that saves it means a reader
 * never sees half of one.
 */
export interface CompiledKey {
  /** The agent build (agent/build.mjs's hash of its own files). */
  build: string;
  node: string;
  /** SHA-256 of the spec file's text, hex. */
  specSha256: string;
}

/** A miss says why the saved compile cannot be used; `why` is null when none was saved. */
export type CompiledLookup = { hit: true; config: NodeConfig } | { hit: false; why: string | null };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The key of `node`'s config compiled by `build` from a spec file whose text is `spec`. */
export const compiledKey = (build: string, node: string, spec: string): CompiledKey => ({ build, node, specSha256: sha256(spec) });

/** The file's text for `config` (as JSON text) compiled under `key`. */
export function compiledFileText(key: CompiledKey, configText: string): string {
  return `${JSON.stringify({ build: key.build, node: key.node, specSha256: key.specSha256, configSha256: sha256(configText) })}\n${configText}`;
}

/**
 * What a saved file holds for `key`: the config, or why it cannot be used (absent, another build,
 * node or spec, damaged). Pure: the text is the file's, or null when there is none.
 */
export function lookupCompiled(text: string | null, key: CompiledKey): CompiledLookup {
  if (text === null) return { hit: false, why: null };
  const nl = text.indexOf('\n');
  let head: unknown;
  try {
    head = JSON.parse(nl < 0 ? text : text.slice(0, nl));
  } catch {
    return { hit: false, why: 'damaged (its first line is not JSON)' };
  }
  const h = (typeof head === 'object' && head !== null ? head : {}) as Record<string, unknown>;
  if (nl < 0 || typeof h.configSha256 !== 'string') return { hit: false, why: 'damaged (no config after its first line)' };
  if (h.build !== key.build) return { hit: false, why: `saved by another build (${String(h.build)})` };
  if (h.node !== key.node) return { hit: false, why: `saved for node ${JSON.stringify(h.node)}` };
  if (h.specSha256 !== key.specSha256) return { hit: false, why: 'the spec changed since' };
  const body = text.slice(nl + 1);
  if (sha256(body) !== h.configSha256) return { hit: false, why: 'damaged (its config does not match its hash)' };
  let config: NodeConfig;
  try {
    config = JSON.parse(body) as NodeConfig;
  } catch {
    return { hit: false, why: 'damaged (its config is not JSON)' };
  }
  // The hash held, so this is what the build wrote; a config for another node never is.
  if (config?.node?.name !== key.node) return { hit: false, why: 'damaged (its config is for another node)' };
  return { hit: true, config };
}

/** Reads the file at `path` for `key`; an unreadable file is a miss that says why. */
export async function readCompiled(path: string, key: CompiledKey): Promise<CompiledLookup> {
  try {
    return lookupCompiled(await readFileOrNull(path), key);
  } catch (e) {
    return { hit: false, why: `unreadable (${(e as Error).message})` };
  }
}

/**
 * Saves the config compiled under `key`. Without fsync: a crash that loses it costs the next start
 * one compile of the spec, nothing else.
 */
export function saveCompiled(path: string, key: CompiledKey, configText: string): Promise<void> {
  return writeFileAtomic(path, compiledFileText(key, configText), { durable: false });
}
