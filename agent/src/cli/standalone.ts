import { readFile } from 'node:fs/promises';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { OverrideList, type Override } from '#shared/overrides/override.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { wireEvent } from '../dataplane/vrrp-host.ts';
import { Engine } from '../engine/engine.ts';
import type { ScriptPolicy } from '../scripts/policy.ts';
import type { ListenAddress } from '../metrics/listen-address.ts';
import { statePaths } from '../state/paths.ts';
import { compiledKey, readCompiled, saveCompiled } from './compiled-cache.ts';
import { AGENT_BUILD, AGENT_VERSION, EXIT, type AgentIO } from './io.ts';
import { hostParts, startMetrics, type DataplaneKind } from './host-parts.ts';
import { lockStateDir, runUntilSignal, timestamped } from './lifecycle.ts';

export interface StandaloneOptions {
  spec: string;
  node: string;
  stateDir: string;
  dataplane: DataplaneKind;
  metricsListen?: ListenAddress;
  /** Where the spec's scripts may live and whom they run as (`--allow-scripts`, `--script-user`). */
  scripts: ScriptPolicy;
  /** A JSON list of overrides (shared/overrides/override.ts) to layer; re-read on SIGHUP. */
  overrides?: string;
}

/** Reads the overrides file; an error names the file and the field. */
async function readOverrides(file: string | undefined): Promise<{ ok: true; overrides: Override[] } | { ok: false; errors: string[] }> {
  if (file === undefined) return { ok: true, overrides: [] };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    return { ok: false, errors: [`${file}: ${(e as Error).message}`] };
  }
  const r = OverrideList.safeParse(json);
  if (!r.success) return { ok: false, errors: r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`) };
  return { ok: true, overrides: r.data };
}

type Compiled = { ok: true; config: NodeConfig; text: string } | { ok: false; errors: string[] };

/**
 * Reads and compiles one node's config from a site spec; issues are `path: message` lines. With
 * the text of the last good compile unchanged, that compile is the answer: parsing and validating
 * a site takes 0.1–0.2 s of CPU on a server and seconds on a slow or busy one, during which the
 * event loop (VRRP adverts included) stands still, and a SIGHUP that only brings new overrides
 * must not make a MASTER miss its adverts.
 */
async function compileFromSpec(file: string, node: string, last?: { config: NodeConfig; text: string }, text?: string): Promise<Compiled> {
  text ??= await readFile(file, 'utf8');
  if (last && text === last.text) return { ok: true, config: last.config, text };
  const { compileSpecText } = await import('./compile-spec.ts');
  const r = compileSpecText(file, text, node);
  return r.ok ? { ok: true, config: r.config, text } : r;
}

/**
 * The first start's compile: the one the state dir saved, when this build made it from this very
 * spec text for this node (a restart), else the spec compiled. `unused`: why a saved compile was
 * not taken (null when none was saved, or there is no build to key it to).
 */
async function firstCompile(o: StandaloneOptions, build: string | null, compiledPath: string): Promise<Compiled & { reused: boolean; unused: string | null }> {
  const text = await readFile(o.spec, 'utf8');
  const found = build ? await readCompiled(compiledPath, compiledKey(build, o.node, text)) : null;
  if (found?.hit) return { ok: true, config: found.config, text, reused: true, unused: null };
  return { ...(await compileFromSpec(o.spec, o.node, undefined, text)), reused: false, unused: found?.why ?? null };
}

/**
 * Standalone mode: no cloud, the node's config compiled locally from the spec, the
 * same engine. SIGHUP re-reads the spec; a changed config is applied as the next local revision.
 */
export async function runStandalone(o: StandaloneOptions, io: AgentIO): Promise<number> {
  // The build whose compiles the state dir may keep (./compiled-cache.ts): none when the agent runs
  // from source, whose code may change between two starts without a build to say so.
  const build = AGENT_BUILD;
  const compiledPath = statePaths(o.stateDir).compiled;
  const first = await firstCompile(o, build, compiledPath);
  if (!first.ok) {
    for (const e of first.errors) io.err(e);
    return EXIT.invalid;
  }
  const firstOverrides = await readOverrides(o.overrides);
  if (!firstOverrides.ok) {
    for (const e of firstOverrides.errors) io.err(e);
    return EXIT.invalid;
  }
  let overrides = firstOverrides.overrides;
  const log = timestamped(io.out);
  const lock = await lockStateDir(o.stateDir, io, log);
  if (!lock) return EXIT.failure;
  const nodeId = nodeIdOf(first.config.site, o.node);
  const metrics = o.metricsListen ? await startMetrics(o.metricsListen, log) : null;
  const parts = await hostParts(o.dataplane, io.out, log, o.scripts, metrics?.taps);
  const engine = new Engine({
    nodeId,
    stateDir: o.stateDir,
    log,
    agentVersion: AGENT_VERSION,
    ...parts,
    emit: (e) => log(`event ${e.type} ${JSON.stringify(e.data)}`),
  });
  parts.onHostEvent?.((e) => engine.emitNodeEvent(wireEvent(e, nodeId)));

  metrics?.attach({ status: () => engine.status(), dataplane: parts.dataplane });
  let revision = 1;
  // The spec as last applied: its text (an unchanged text is not compiled again), config and
  // canonical form (made at the first reload, not on the way to the first apply).
  let applied: { text: string; config: typeof first.config; json: string | null } = { text: first.text, config: first.config, json: null };
  log(`lvsfleet-agent ${AGENT_VERSION} standalone: ${nodeId} (${first.config.node.role}) from ${o.spec}, dataplane ${o.dataplane}, state ${o.stateDir}`);
  if (first.reused) log(`spec unchanged since the compile saved in ${compiledPath}: not compiled again`);
  else if (first.unused) log(`the compile saved in ${compiledPath} not used: ${first.unused}`);
  // Saves of the compile for the next start, one after another (the last one made is the one kept);
  // the stop waits for them. A failed save costs that start a compile.
  let saving = Promise.resolve();
  const saveCompile = (text: string, configJson: string) => {
    if (!build) return saving;
    const key = compiledKey(build, o.node, text);
    return (saving = saving.then(() =>
      saveCompiled(compiledPath, key, configJson).catch((e: unknown) => log(`${compiledPath} not saved: ${(e as Error).message}`)),
    ));
  };
  const run = runUntilSignal(engine, log, {
    cleanup: async () => {
      try {
        await saving;
        await metrics?.close();
      } finally {
        await lock.release();
      }
    },
    reload: async () => {
      const next = await compileFromSpec(o.spec, o.node, applied);
      if (!next.ok) return void next.errors.forEach((e) => log(`reload rejected: ${e}`));
      const nextOverrides = await readOverrides(o.overrides);
      if (!nextOverrides.ok) return void nextOverrides.errors.forEach((e) => log(`reload rejected: ${e}`));
      const sameOverrides = canonicalJson(nextOverrides.overrides) === canonicalJson(overrides);
      const appliedJson = (applied.json ??= canonicalJson(applied.config));
      const recompiled = next.config !== applied.config;
      const json = recompiled ? canonicalJson(next.config) : appliedJson;
      const changed = json !== appliedJson;
      applied = { text: next.text, config: next.config, json };
      // Not awaited: the apply goes first.
      if (recompiled) void saveCompile(next.text, json);
      if (!changed && sameOverrides) return void log('reload: config unchanged');
      overrides = nextOverrides.overrides;
      if (changed) revision++;
      else log(`reload: ${overrides.length} override(s)${recompiled ? '' : ' (spec unchanged, not compiled again)'}`);
      await engine.apply(next.config, revision, overrides);
    },
  });
  // Serialised before the apply, saved after it: the apply never waits for the save.
  const firstJson = first.reused || !build ? null : JSON.stringify(first.config);
  await engine.apply(first.config, revision, overrides);
  if (firstJson !== null) await saveCompile(first.text, firstJson);
  return run.done;
}
