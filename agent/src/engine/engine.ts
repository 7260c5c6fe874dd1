import { performance } from 'node:perf_hooks';
import { isValidIpv6 } from '#shared/util/ip.ts';
import * as z from 'zod';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { layer } from '#shared/overrides/layer.ts';
import { isActive, nextExpiry, type Override } from '#shared/overrides/override.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { AgentHealth, NodeStatus } from '#shared/wire/status.ts';
import { realServerKey } from '#shared/ipvs/model.ts';
import type { Dataplane } from '../dataplane/types.ts';
import { errorText } from '../errors.ts';
import { turnOfTheLoop } from '../event-loop.ts';
import { IpvsReconciler } from '../ipvs/reconciler.ts';
import { RealServerRole, type RoleResult } from '../realserver/role.ts';
import { convergeSysctls, type SavedSysctls } from '../realserver/sysctl-keeper.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { statePaths } from '../state/paths.ts';
import { StateFile } from '../state/state-file.ts';
import { makeEvent, type EventBody } from './events.ts';
import { flattenErrors, pickParts, withPart, type PartErrors } from './part-errors.ts';
import type { BfdChange, BfdPart, HealthCheckerPart, HealthTransition, StartBfdPart, StartHealthChecker, StartVrrpPart, VrrpPart } from './parts.ts';
import { runNotify } from './notify.ts';
import { ScriptLauncher } from '../scripts/launcher.ts';
import { NO_SCRIPTS } from '../scripts/policy.ts';
import { buildStatus, statusFileText } from './status.ts';
import { overrideStatus } from './override-status.ts';

/**
 * A status's bound: a changed status goes out no sooner than the last one's JSON allows at this
 * many characters per second (1 MiB/s). A real server's (a few hundred) and a 1,000-real-server
 * director's (127 KB: 0.12 s) go out as they change; a 10,000-real-server director's is 1.3 MB, and
 * without a bound a storm of health changes sent one for every IPVS pass, tens of MB/s from a host
 * that also forwards the traffic, each stored by the cloud.
 */
const STATUS_CHARS_PER_SECOND = 1024 * 1024;

export interface EngineOptions {
  nodeId: string;
  dataplane: Dataplane;
  stateDir: string;
  log: (line: string) => void;
  /** Every event, enveloped (cloud mode publishes them on `.../events`). */
  emit?: (e: NodeEvent) => void;
  /** The helpers' supervision snapshot for the status document (host parts: Linux only). */
  agentHealth?: () => AgentHealth;
  /**
   * Called whenever the status changes, and at least every `statusHeartbeatMs` while it does not
   * (cloud mode publishes it retained): the cloud takes a report older than its window as no report.
   */
  onStatus?: (s: NodeStatus) => void;
  /** Default 15 s: a third of the cloud's staleness window, so one lost report is not an outage. */
  statusHeartbeatMs?: number;
  /** The status's bound, in characters of its JSON per second; default `STATUS_CHARS_PER_SECOND`. */
  statusCharsPerSecond?: number;
  startHealthChecker?: StartHealthChecker;
  startVrrp?: StartVrrpPart;
  startBfd?: StartBfdPart;
  /** Re-verification period (IPVS drift, drains, real-server drift). */
  verifyIntervalMs?: number;
  drainTimeoutMs?: number;
  agentVersion?: string;
  now?: () => number;
  /** Runs notify and quorum hooks under the agent's script policy (default: none allowed). */
  scripts?: ScriptLauncher;
  /** Wall clock (ms since the epoch) for override expiry; default Date.now. */
  wallNow?: () => number;
  /** A drained real server counts as drained after this long even with connections left (default 5 min). */
  overrideDrainTimeoutMs?: number;
}

export interface ApplyOutcome {
  ok: boolean;
  /** `part: message` per failed part (the status document's form). */
  errors: string[];
}

/**
 * The agent's engine, the same for cloud and standalone mode: takes a verified NodeConfig and
 * keeps the host converged to it — director sysctls, IPVS (with health, quorum, sorry server,
 * draining), VRRP, and the real-server role — re-verifying periodically. Each part fails on
 * its own: a host without ip_vs reports IPVS failed and keeps VRRP and checks running.
 */
export class Engine {
  /** What the node runs: the revision's config with the active overrides layered on. */
  private config: NodeConfig | null = null;
  /** The revision's config as the document carried it, and its overrides. */
  private base: NodeConfig | null = null;
  private overrides: readonly Override[] = [];
  /** When this agent first layered each override (monotonic ms), for the drain timeout. */
  private readonly overrideSince = new Map<string, number>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private revision: number | null = null;
  /** The newest revision every part converged to (the status document's `appliedRevision`). */
  private appliedRevision: number | null = null;
  private pendingRevision: number | null = null;
  private readonly paths;
  private readonly ipvs: IpvsReconciler;
  private readonly role: RealServerRole;
  /** Sysctl values a director replaced, to restore when the config drops them. */
  private readonly sysctlsFile: StateFile<SavedSysctls>;
  private savedSysctls: SavedSysctls | null = null;
  private checker: HealthCheckerPart | null = null;
  /** Last known up/down per `service|address:port`, to tell a misc_dynamic weight change from an up/down. */
  private readonly upOf = new Map<string, boolean>();
  private vrrp: VrrpPart | null = null;
  private bfd: BfdPart | null = null;
  private roleResult: RoleResult | null = null;
  private errors: PartErrors = {};
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Status file writes, in order: an older status never lands after a newer one. */
  private statusWrites: Promise<void> = Promise.resolve();
  /** A status publication waiting for the loop's next turn (`publishStatus`); the calls until then share it. */
  private statusQueued: Promise<void> | null = null;
  /** When the next changed status may go out (the `now` clock): the last one's size at `statusCharsPerSecond`. */
  private statusSendableAt = -Infinity;
  /** A changed status held back until `statusSendableAt`: what resolves when it has gone out, and how stop() drops it. */
  private statusHeld: { done: Promise<void>; drop: () => void } | null = null;
  private kickQueued = false;
  private stopped = false;
  private lastStatusJson = '';
  private lastStatusSentAt = -Infinity;

  private readonly scripts: ScriptLauncher;

  constructor(private readonly o: EngineOptions) {
    this.scripts = o.scripts ?? new ScriptLauncher(NO_SCRIPTS);
    this.paths = statePaths(o.stateDir);
    const now = o.now ?? (() => performance.now());
    this.ipvs = new IpvsReconciler({
      dataplane: o.dataplane,
      ownedPath: this.paths.ipvsOwned,
      now,
      log: o.log,
      emit: (e) => {
        this.event(e);
        const svc = this.config?.services.find((s) => s.name === e.data.service);
        const lost = e.type === 'service.quorum_lost';
        void runNotify(lost ? (svc?.quorumDown ?? null) : (svc?.quorumUp ?? null), `${e.data.service} quorum ${lost ? 'down' : 'up'}`, o.log, this.scripts);
      },
      drainTimeoutMs: o.drainTimeoutMs,
    });
    this.role = new RealServerRole(o.dataplane, this.paths.realServer, o.log);
    // Not fsynced, like the real-server role's file: sysctl values do not outlive the host crash a fsync guards against.
    this.sysctlsFile = new StateFile(this.paths.directorSysctls, { schema: z.record(z.string(), z.string()), log: o.log, durable: false });
  }

  /** Raises an event (enveloped with nodeId and time). */
  event(body: EventBody): void {
    this.o.emit?.(makeEvent(this.o.nodeId, body));
  }

  /** An event built by another part (the VRRP host's own: a helper restarted, no GARP possible), sent like the engine's. */
  emitNodeEvent(e: NodeEvent): void {
    this.o.emit?.(e);
  }

  /** Serialises host work: applies, health-driven reconciles and periodic checks never overlap. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f, f);
    this.chain = p.catch(() => {});
    return p;
  }

  /**
   * Resolves when the engine has nothing left to do: applies, queued health-driven reconciles,
   * verifications and status file writes — including work queued while it waited.
   */
  async idle(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      const queued = this.statusQueued;
      const held = this.statusHeld;
      const writes = this.statusWrites;
      await chain;
      await queued;
      await held?.done;
      await writes;
      if (chain === this.chain && queued === this.statusQueued && held === this.statusHeld && writes === this.statusWrites) return;
    }
  }

  private wallNow(): number {
    return (this.o.wallNow ?? Date.now)();
  }

  private monoNow(): number {
    return (this.o.now ?? (() => performance.now()))();
  }

  /** The revision's config with the overrides active now, and the expiry timer armed for the next change. */
  private layered(): NodeConfig {
    const now = this.wallNow();
    const active = this.overrides.filter((o) => isActive(o, now));
    for (const id of [...this.overrideSince.keys()]) if (!active.some((o) => o.id === id)) this.overrideSince.delete(id);
    for (const o of active) if (!this.overrideSince.has(o.id)) this.overrideSince.set(o.id, this.monoNow());
    this.armExpiry(now);
    return layer(this.base!, this.overrides, now);
  }

  /**
   * A timer at the next `until` on this host's clock: overrides end on time with the cloud gone.
   * Long waits are cut into hours (setTimeout's limit is 24.8 days) and re-armed; the periodic
   * verification re-layers too, should the timer be late.
   */
  private armExpiry(now: number): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const next = nextExpiry(this.overrides, now);
    if (next === null || this.stopped) return;
    this.expiryTimer = setTimeout(() => void this.relayer(), Math.min(next - now, 3_600_000) + 1);
    this.expiryTimer.unref();
  }

  /** Re-layers the overrides (one expired); converges when that changes what the node runs. */
  private relayer(): Promise<void> {
    return this.serial(async () => {
      if (this.stopped || !this.base) return;
      const next = this.layered();
      if (canonicalJson(next) === canonicalJson(this.config)) return;
      const ended = this.overrides.filter((o) => !isActive(o, this.wallNow())).map((o) => `${o.kind} ${o.id}`);
      this.o.log(
        `overrides: ${ended.join(', ') || 'set'} ended; running revision ${this.revision} ${this.overrides.some((o) => isActive(o, this.wallNow())) ? 'with the rest' : 'as published'}`,
      );
      const previous = this.config;
      this.config = next;
      const started = next.node.role === 'director' ? await this.applyDirectorParts(next, previous) : {};
      await this.converge(started);
    });
  }

  /**
   * Takes a verified config (and the document's overrides, layered on it until each one's
   * `until` on this host's clock) and converges the host to it.
   */
  apply(base: NodeConfig, revision: number | null, overrides: readonly Override[] = []): Promise<ApplyOutcome> {
    return this.serial(async () => {
      if (this.stopped) return { ok: false, errors: ['agent is stopping'] };
      const previous = this.config;
      this.base = base;
      this.overrides = overrides;
      const config = this.layered();
      this.config = config;
      this.revision = revision;
      this.pendingRevision = revision;
      // Checks and VRRP are started by an apply only: their errors are this apply's, or none.
      const started = config.node.role === 'director' ? await this.applyDirectorParts(config, previous) : {};
      const outcome = await this.converge(started);
      if (!this.timer && !this.stopped) {
        // Not unref'd: this timer is what keeps a running agent alive between events.
        this.timer = setInterval(() => void this.verify(), this.o.verifyIntervalMs ?? 5_000);
      }
      return outcome;
    });
  }

  /** Omega hooks, IPVS config, the health checker and VRRP; returns the errors of checks and vrrp. */
  private async applyDirectorParts(config: NodeConfig, previous: NodeConfig | null): Promise<PartErrors> {
    let errors: PartErrors = {};
    // keepalived omega: a virtual server removed from the config runs its real servers'
    // notify_down and its quorum_down.
    for (const gone of previous?.services.filter((s) => s.omega && !config.services.some((n) => n.name === s.name)) ?? []) {
      for (const rs of gone.realServers) void runNotify(rs.notifyDown, `${gone.name} ${rs.address}:${rs.port} down (omega)`, this.o.log, this.scripts);
      void runNotify(gone.quorumDown, `${gone.name} quorum down (omega)`, this.o.log, this.scripts);
    }
    this.ipvs.setConfig(config.services, config.allowMassDelete);
    if (this.o.startHealthChecker) {
      try {
        if (this.checker) this.checker.update(config.services);
        else {
          this.checker = await this.o.startHealthChecker({ services: config.services, onTransition: (t) => this.onHealthTransition(t), log: this.o.log });
        }
        const checker = this.checker;
        this.ipvs.setHealth((k) => checker.state().get(k) ?? { up: true, weight: null });
      } catch (e) {
        errors = withPart(errors, 'checks', errorText(e));
      }
    }
    if (this.o.startVrrp) {
      try {
        if (this.vrrp) await this.vrrp.update(config.vrrp);
        else {
          this.vrrp = await this.o.startVrrp({
            nodeId: this.o.nodeId,
            node: config.node,
            config: config.vrrp,
            emit: (e) => {
              this.o.emit?.(e);
              void this.publishStatus(); // a VRRP transition changes the retained status at once
            },
            log: this.o.log,
          });
        }
      } catch (e) {
        errors = withPart(errors, 'vrrp', errorText(e));
      }
    }
    // After VRRP, which takes the session changes (track_bfd, a peer's Down).
    const sessions = config.bfd ?? [];
    if (this.o.startBfd && (this.bfd || sessions.length)) {
      try {
        if (this.bfd) await this.bfd.update(sessions);
        else this.bfd = await this.o.startBfd({ sessions, onChange: (c) => this.onBfdChange(c), log: this.o.log });
      } catch (e) {
        errors = withPart(errors, 'bfd', errorText(e));
      }
    }
    return errors;
  }

  /** A BFD session changed: event, VRRP told (Up or not Up), status republished. Ignored while stopping: our own AdminDown is no news. */
  private onBfdChange(c: BfdChange): void {
    if (this.stopped) return;
    this.event({ type: 'bfd.transition', data: { session: c.name, peer: c.peer, from: c.from, to: c.to, diag: c.diag, reason: c.reason } });
    this.vrrp?.bfd({ name: c.name, up: c.to === 'Up' });
    void this.publishStatus();
  }

  /**
   * A real server's health changed: log, event and notify hook for an up/down (not for a weight
   * change), then IPVS re-planned at once.
   */
  private onHealthTransition(t: HealthTransition): void {
    const key = realServerKey(t.service, t);
    const svc = this.config?.services.find((s) => s.name === t.service);
    // Initial states are not sent as transitions: up, or down with alpha (keepalived).
    const wasUp = this.upOf.get(key) ?? !(svc?.alpha ?? false);
    this.upOf.set(key, t.up);
    if (t.up === wasUp) {
      // Same state, new weight: keepalived misc_dynamic. IPVS changes; no up/down event.
      this.o.log(`check ${t.service} ${t.address}:${t.port} weight → ${t.weight} (${t.check}: ${t.detail})`);
      this.kick();
      return;
    }
    this.o.log(`check ${t.service} ${t.address}:${t.port} ${t.up ? 'DOWN→UP' : 'UP→DOWN'} (${t.check}: ${t.detail})`);
    this.event({
      type: t.up ? 'realserver.up' : 'realserver.down',
      data: { service: t.service, address: t.address, port: t.port, check: t.check, detail: t.detail },
    });
    const rs = svc?.realServers.find((r) => r.address === t.address && r.port === t.port);
    void runNotify((t.up ? rs?.notifyUp : rs?.notifyDown) ?? null, `${t.service} ${t.address}:${t.port} ${t.up ? 'up' : 'down'}`, this.o.log, this.scripts);
    this.kick();
  }

  /**
   * Sysctls, IPVS and the real-server role on top of `kept` (the errors of parts this pass does
   * not run); updates revision bookkeeping and status.
   */
  private async converge(kept: PartErrors): Promise<ApplyOutcome> {
    const config = this.config;
    if (!config) return { ok: true, errors: [] };
    let errors = kept;
    if (config.node.role === 'director') {
      try {
        // Read once (a corrupt file reads as empty and is logged), then kept in memory: the file
        // is written only when the saved values change.
        this.savedSysctls ??= await this.sysctlsFile.read({});
        const r = await convergeSysctls(this.o.dataplane, config.sysctls, this.savedSysctls);
        this.savedSysctls = r.saved;
        await this.sysctlsFile.write(r.saved);
      } catch (e) {
        errors = withPart(errors, 'sysctls', errorText(e));
      }
      errors = withPart(errors, 'ipvs', await this.reconcileIpvs(config));
    }
    const vips = config.realServer.vips;
    if (vips.length || config.node.role === 'realserver') {
      const address6 = config.node.address6 ?? (isValidIpv6(config.node.address) ? config.node.address : null);
      const r = await this.role.converge(vips, config.realServer.sysctls ?? {}, config.node.interface, address6);
      if (this.roleResult && r.warnings.join() !== this.roleResult.warnings.join()) for (const w of r.warnings) this.o.log(`realserver warning: ${w}`);
      if (!this.roleResult) for (const w of r.warnings) this.o.log(`realserver warning: ${w}`);
      this.roleResult = r;
      for (const d of r.drift) {
        this.o.log(`realserver drift: ${d} (repaired: ${r.ok})`);
        this.event({ type: 'realserver.drift', data: { what: d, repaired: r.ok } });
      }
      errors = withPart(errors, 'realserver', r.ok ? null : (r.error ?? 'failed'));
    }
    const flat = this.record(errors);
    return { ok: flat.length === 0, errors: flat };
  }

  /** One IPVS pass; its error, or null. A director with no services does not need ip_vs. */
  private async reconcileIpvs(config: NodeConfig): Promise<string | null> {
    const r = await this.ipvs.reconcile();
    return r.ok || (!config.services.length && r.code === 'IPVS_UNAVAILABLE') ? null : (r.error ?? 'failed');
  }

  /**
   * Records a pass's errors: apply.succeeded once per revision when every part converged,
   * apply.failed when the set of failures changed. Returns them flattened.
   */
  private record(errors: PartErrors): string[] {
    const rev = this.revision;
    const flat = flattenErrors(errors);
    const changed = flat.join('\n') !== flattenErrors(this.errors).join('\n');
    this.errors = errors;
    if (flat.length === 0 && this.pendingRevision !== null) {
      this.appliedRevision = this.pendingRevision;
      this.pendingRevision = null;
      this.o.log(`apply revision ${rev} succeeded`);
      if (rev !== null) this.event({ type: 'apply.succeeded', data: { revision: rev } });
    } else if (flat.length && changed) {
      this.o.log(`apply revision ${rev} failed: ${flat.join('; ')}`);
      if (rev !== null) this.event({ type: 'apply.failed', data: { revision: rev, error: flat.join('; ') } });
    }
    void this.publishStatus();
    return flat;
  }

  /** Re-plans IPVS at once (a health transition); coalesces bursts into one pass. */
  kick(): void {
    if (this.kickQueued || this.stopped) return;
    this.kickQueued = true;
    void this.serial(async () => {
      this.kickQueued = false;
      const config = this.config;
      if (config?.node.role !== 'director') return;
      this.record(withPart(this.errors, 'ipvs', await this.reconcileIpvs(config)));
    });
  }

  /** Periodic re-verification: drift in IPVS or on the real server is repaired and reported. */
  verify(): Promise<ApplyOutcome> {
    if (this.base) {
      // Without active overrides layer() returns the base itself, which is the running config:
      // no need to serialise both (for 1,000 services, the most of an idle agent's CPU and garbage).
      const next = layer(this.base, this.overrides, this.wallNow());
      if (next !== this.config && canonicalJson(next) !== canonicalJson(this.config)) void this.relayer();
    }
    return this.serial(() => this.converge(pickParts(this.errors, ['checks', 'vrrp', 'bfd'])));
  }

  status(): NodeStatus {
    const vrrp = this.vrrp?.status() ?? null;
    const now = this.wallNow();
    const active = this.overrides.filter((o) => isActive(o, now));
    const overrides =
      this.config && active.length
        ? overrideStatus({
            active,
            config: this.config,
            vrrp,
            conns: (svc, rs) => this.ipvs.activeConnections(svc, rs),
            since: this.overrideSince,
            now: this.monoNow(),
            drainTimeoutMs: this.o.overrideDrainTimeoutMs ?? 300_000,
          })
        : null;
    return buildStatus({
      overrides,
      activeConnections: (svc, rs) => this.ipvs.activeConnections(svc, rs),
      nodeId: this.o.nodeId,
      config: this.config,
      appliedRevision: this.appliedRevision,
      pendingRevision: this.pendingRevision,
      agentVersion: this.o.agentVersion,
      vrrp,
      bfd: this.bfd?.status() ?? null,
      health: this.checker?.state() ?? null,
      quorumUp: (n) => this.ipvs.quorumUp(n),
      ipvs: this.ipvs.last,
      role: this.roleResult,
      errors: flattenErrors(this.errors),
      agentHealth: this.o.agentHealth?.() ?? null,
    });
  }

  /**
   * Publishes the status in the event loop's next turn: once for all the calls made until then (an
   * apply's record, a VRRP transition in the same pass), and never in the run of the loop that
   * planned and applied IPVS. For a 10,000-real-server director, building and serialising the
   * status is a step of its own; in the same run as the apply's, the two held the loop for about
   * 50 ms, BFD's detection time at 10 ms × 5. Resolves once that status is out and written.
   */
  publishStatus(): Promise<void> {
    this.statusQueued ??= turnOfTheLoop().then(() => {
      this.statusQueued = null;
      return this.publishStatusNow();
    });
    return this.statusQueued;
  }

  /**
   * Writes the status file and tells onStatus when anything but the timestamp changed, or the
   * heartbeat is due. A changed status goes out no sooner than the last one's size allows at
   * `statusCharsPerSecond`; until then it is held, and the status built when that time comes (the
   * newest) goes out instead.
   */
  private publishStatusNow(): Promise<void> {
    if (this.statusHeld) return this.statusHeld.done;
    const s = this.status();
    const { at: _at, ...rest } = s;
    const json = JSON.stringify(rest);
    const t = (this.o.now ?? (() => performance.now()))();
    if (json === this.lastStatusJson) {
      if (t - this.lastStatusSentAt >= (this.o.statusHeartbeatMs ?? 15_000)) {
        this.lastStatusSentAt = t;
        this.o.onStatus?.(s);
      }
      return this.statusWrites;
    }
    if (t < this.statusSendableAt && !this.stopped) {
      let drop!: () => void;
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.statusHeld = null;
          resolve(this.publishStatusNow());
        }, this.statusSendableAt - t);
        drop = () => {
          clearTimeout(timer);
          this.statusHeld = null;
          resolve();
        };
      });
      this.statusHeld = { done, drop };
      return done;
    }
    this.lastStatusJson = json;
    this.lastStatusSentAt = t;
    this.statusSendableAt = t + (1000 * json.length) / (this.o.statusCharsPerSecond ?? STATUS_CHARS_PER_SECOND);
    this.o.onStatus?.(s);
    // A report, rewritten at every change: atomic for readers, not fsynced (the stop's last one is).
    // Written out in a turn of the loop of its own, after the run that built the status and gave it
    // to onStatus. The JSON made above, with the time put back: `lvsfleet-agent status` parses
    // the file and prints it indented. Indented again here, a 1,000-real-server director's status
    // was 229 KB against 127 and a second serialisation (0.77 ms on the slower test machines).
    const text = statusFileText(s.at, json);
    const write = async () => {
      await turnOfTheLoop();
      await writeFileAtomic(this.paths.status, text, { durable: false }).catch((e) => this.o.log(`status file: ${errorText(e)}`));
    };
    this.statusWrites = this.statusWrites.then(write);
    return this.statusWrites;
  }

  /**
   * Graceful stop: VRRP sends priority 0 and drops its VIPs; IPVS rules, real-server VIPs and
   * sysctls stay as they are, so a restart is hitless.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    // Only an apply in flight must finish first (it may be starting or changing VRRP and BFD).
    // Status-file writes (fsynced) are waited for at the end: waiting for them here put 10–25 ms
    // between the signal and the priority-0 advert (bench:failover's breakdown).
    for (let chain = this.chain; ; chain = this.chain) {
      await chain;
      if (chain === this.chain) break;
    }
    // BFD first, in the same tick as VRRP: its AdminDown leaves before the priority-0 advert and
    // tells a backup at once that this master is going (a peer's Down is a master-down there),
    // while the priority-0 advert still waits Skew_Time. Neither waits for the other's sockets.
    const bfd = this.bfd?.stop().catch((e: unknown) => this.o.log(`bfd stop: ${errorText(e)}`));
    // A status held back for its rate goes no further: the stop's own status follows.
    this.statusHeld?.drop();
    await Promise.allSettled([bfd, this.vrrp?.stop(), this.checker?.stop()]);
    this.bfd = null;
    this.vrrp = null;
    this.checker = null;
    await this.idle();
    await writeFileAtomic(this.paths.status, JSON.stringify({ ...this.status(), online: false })).catch((e) => this.o.log(`status file: ${errorText(e)}`));
  }
}
