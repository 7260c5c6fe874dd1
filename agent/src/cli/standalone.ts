import { readFile } from 'node:fs/promises';
import { compileNode } from '#shared/compiler/compile.ts';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { OverrideList, type Override } from '#shared/overrides/override.ts';
import { parseSite } from '#shared/site/parse.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { nodeIdOf } from '#shared/wire/topics.ts';
import { wireEvent } from '../dataplane/vrrp-host.ts';
import { Engine } from '../engine/engine.ts';
import type { ScriptPolicy } from '../scripts/policy.ts';
import type { ListenAddress } from '../metrics/listen-address.ts';
import { AGENT_VERSION, EXIT, type AgentIO } from './io.ts';
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
async function compileFromSpec(file: string, node: string, last?: { config: NodeConfig; text: string }): Promise<Compiled> {
  const text = await readFile(file, 'utf8');
  if (last && text === last.text) return { ok: true, config: last.config, text };
  // A spec file may be JSON (YAML's subset): read as JSON when it is, with the same answers, much cheaper.
  const r = parseSite(text, { format: 'auto' });
  if (!r.ok) return { ok: false, errors: r.issues.map((i) => `${file}:${i.line ?? 0}: ${i.path ? `${i.path}: ` : ''}${i.message}`) };
  if (!r.site.spec.nodes.some((n) => n.name === node))
    return { ok: false, errors: [`--node: no node named "${node}" in ${file} (have ${r.site.spec.nodes.map((n) => n.name).join(', ')})`] };
  return { ok: true, config: compileNode(r.site, node), text };
}

/**
 * Standalone mode: no cloud, the node's config compiled locally from the spec, the
 * same engine. SIGHUP re-reads the spec; a changed config is applied as the next local revision.
 */
export async function runStandalone(o: StandaloneOptions, io: AgentIO): Promise<number> {
  const first = await compileFromSpec(o.spec, o.node);
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
  const run = runUntilSignal(engine, log, {
    cleanup: async () => {
      try {
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
      if (!changed && sameOverrides) return void log('reload: config unchanged');
      overrides = nextOverrides.overrides;
      if (changed) revision++;
      else log(`reload: ${overrides.length} override(s)${recompiled ? '' : ' (spec unchanged, not compiled again)'}`);
      await engine.apply(next.config, revision, overrides);
    },
  });
  await engine.apply(first.config, revision, overrides);
  return run.done;
}
