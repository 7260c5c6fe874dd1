import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { TrustReport } from '#shared/wire/key-trust.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { AgentConfig } from '../cloud/agent-config.ts';
import { scriptPolicyFromFlags } from './script-flags.ts';
import type { MqttLink, startMqttLink as StartMqttLink } from '../cloud/mqtt-link.ts';
import { startHttpReporter } from '../cloud/http-report.ts';
import { wireEvent } from '../dataplane/vrrp-host.ts';
import { Engine } from '../engine/engine.ts';
import { errorText } from '../errors.ts';
import { Intake } from '../intake/intake.ts';
import { parseListenAddress, type ListenAddress } from '../metrics/listen-address.ts';
import { defaultStateDir, statePaths } from '../state/paths.ts';
import { hostParts, startMetrics, type DataplaneKind } from './host-parts.ts';
import { AGENT_BUILD, AGENT_VERSION, EXIT, type AgentIO } from './io.ts';
import { lockStateDir, runUntilSignal, timestamped } from './lifecycle.ts';

export interface CloudRunOptions {
  configPath: string;
  stateDir?: string;
  dataplane: DataplaneKind;
  /** Overrides the enrolled config's `metrics.listen`. */
  metricsListen?: ListenAddress;
  /** `--allow-scripts` and `--script-user`; each, when given, overrides the config file's `scripts`. */
  scriptFlags: { allow?: string[]; user?: string };
  /** Test seam: shorter reconnect back-off. */
  backoff?: { baseMs: number; maxMs: number };
}

/** Reads and validates the enrolled agent config; errors name the file and field. */
async function loadAgentConfig(path: string): Promise<{ ok: true; config: AgentConfig } | { ok: false; error: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return {
      ok: false,
      error: `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (run `lvsfleet-agent enroll` first)' : (e as Error).message}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `${path}: not valid JSON` };
  }
  const r = AgentConfig.safeParse(json);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${path}: ${i.path.join('.')}: ${i.message}`).join('\n') };
  return { ok: true, config: r.data };
}

/**
 * Cloud mode: apply the cached verified document first, then connect to the broker and take
 * new revisions through the verified intake. The broker may be gone for ever; the engine keeps
 * running what it has.
 */
export async function runCloud(o: CloudRunOptions, io: AgentIO): Promise<number> {
  const loaded = await loadAgentConfig(o.configPath);
  if (!loaded.ok) {
    io.err(loaded.error);
    return EXIT.invalid;
  }
  const cfg = loaded.config;
  const fromFile = { allow: `scripts.allow in ${o.configPath}`, user: `scripts.user in ${o.configPath}` };
  const scripts = await scriptPolicyFromFlags(o.scriptFlags.allow ?? cfg.scripts?.allow, o.scriptFlags.user ?? cfg.scripts?.user, undefined, {
    allow: o.scriptFlags.allow ? '--allow-scripts' : fromFile.allow,
    user: o.scriptFlags.user ? '--script-user' : fromFile.user,
  });
  const stateDir = o.stateDir ?? cfg.stateDir ?? defaultStateDir(o.dataplane);
  const log = timestamped(io.out);
  const lock = await lockStateDir(stateDir, io, log);
  if (!lock) return EXIT.failure;
  let link: MqttLink | null = null;
  /** Reports over HTTPS too when enrollment asked for it (a cloud on Workers hears no broker). */
  const reporter = cfg.report
    ? startHttpReporter({
        url: cfg.report.url,
        username: cfg.mqtt.username,
        password: cfg.mqtt.password,
        log,
        baseDelayMs: o.backoff?.baseMs,
        maxDelayMs: o.backoff?.maxMs,
      })
    : null;
  /** The pinned key set goes out with every status: the cloud's acknowledgement of a key rotation. */
  let trust: TrustReport | undefined;
  const withTrust = (s: NodeStatus): NodeStatus => (trust ? { ...s, trust } : s);
  const listen = o.metricsListen ?? (cfg.metrics ? parseListenAddress(cfg.metrics.listen) : null);
  const metrics = listen ? await startMetrics(listen, log) : null;
  const parts = await hostParts(o.dataplane, io.out, log, scripts, metrics?.taps);
  const engine = new Engine({
    nodeId: cfg.nodeId,
    stateDir,
    log,
    agentVersion: AGENT_VERSION,
    ...parts,
    emit: (e) => {
      log(`event ${e.type} ${JSON.stringify(e.data)}`);
      link?.publishEvent(e);
      reporter?.publishEvent(e);
    },
    onStatus: (s) => {
      link?.publishStatus(withTrust(s));
      reporter?.publishStatus(withTrust(s));
    },
  });
  parts.onHostEvent?.((e) => engine.emitNodeEvent(wireEvent(e, cfg.nodeId)));

  metrics?.attach({ status: () => engine.status(), dataplane: parts.dataplane });
  const intake = new Intake({
    nodeId: cfg.nodeId,
    keys: cfg.keys as JWK[],
    paths: statePaths(stateDir),
    log,
    build: AGENT_BUILD,
    onReject: (r) => engine.event({ type: 'config.rejected', data: r }),
    onPinned: (report) => {
      trust = report;
      link?.publishStatus(withTrust(engine.status()));
      reporter?.publishStatus(withTrust(engine.status()));
    },
  });
  trust = await intake.trustReport();
  log(
    `lvsfleet-agent ${AGENT_VERSION}${AGENT_BUILD ? ` (build ${AGENT_BUILD})` : ''}: ${cfg.nodeId}, broker ${cfg.mqtt.url}, dataplane ${o.dataplane}, state ${stateDir}`,
  );
  const run = runUntilSignal(engine, log, {
    cleanup: async () => {
      try {
        // Side by side: each waits on its peer for at most a few seconds (CLOSE_WITHIN_MS), well
        // inside systemd's TimeoutStopSec.
        const final = withTrust({ ...engine.status(), online: false });
        await Promise.all([link?.close(final), reporter?.close(final)]);
        await metrics?.close();
      } finally {
        await lock.release();
      }
    },
  });
  const cached = await intake.boot();
  if (cached) await engine.apply(cached.config, cached.revision, cached.overrides ?? []);
  else log('no cached configuration yet; waiting for the broker');
  if (run.stopping()) return run.done;
  // The broker link (mqtt.js with its streams, a third of this mode's code) is loaded only now: a
  // restart applies its cached document first, and parsing that code would only delay the apply.
  let startMqttLink: typeof StartMqttLink;
  try {
    ({ startMqttLink } = await import('../cloud/mqtt-link.ts'));
  } catch (e) {
    // A broken install (a chunk missing): stop as a signal would, and exit non-zero for the supervisor to see.
    log(`cannot load the broker link: ${errorText(e)}; stopping`);
    process.kill(process.pid, 'SIGTERM');
    await run.done;
    return EXIT.failure;
  }
  if (run.stopping()) return run.done;
  link = startMqttLink({
    url: cfg.mqtt.url,
    username: cfg.mqtt.username,
    password: cfg.mqtt.password,
    nodeId: cfg.nodeId,
    log,
    baseDelayMs: o.backoff?.baseMs,
    maxDelayMs: o.backoff?.maxMs,
    onDesired: async (payload) => {
      // An empty payload is the broker clearing the retained document (node removed): nothing
      // to verify, and the agent keeps running what it has.
      if (!payload.trim()) return void log('desired document cleared on the broker; keeping the current configuration');
      const claims = await intake.receive(payload.trim());
      if (claims) {
        const n = claims.overrides?.length ?? 0;
        log(`received revision ${claims.revision}${n ? ` with ${n} override(s) (generation ${claims.overridesVersion ?? 0})` : ''}`);
        await engine.apply(claims.config, claims.revision, claims.overrides ?? []);
      }
    },
  });
  link.publishStatus(withTrust(engine.status()));
  reporter?.publishStatus(withTrust(engine.status()));
  return run.done;
}
