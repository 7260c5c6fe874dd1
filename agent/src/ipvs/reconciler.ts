import * as z from 'zod';
import type { ResolvedService } from '#shared/config/node-config.ts';
import type { Dataplane } from '../dataplane/types.ts';
import { serviceKey } from '#shared/ipvs/model.ts';
import { aliveWeight, configuredDestKeys, desiredIpvs, kernelRealServerKey, type RealServerHealth } from '#shared/ipvs/desired.ts';
import { AgentError, errorText } from '../errors.ts';
import { turnOfTheLoop } from '../event-loop.ts';
import { StateFile } from '../state/state-file.ts';
import { withDraining } from './drain.ts';
import { checkMassDelete } from './guard.ts';
import { planIpvs } from './plan.ts';
import { quorumStep } from './quorum.ts';

/** Above this many real servers in the kernel's table, the pass yields to the event loop after reading it and before planning (`turnOfTheLoop`). */
const LARGE_TABLE_DESTS = 2000;

export interface IpvsResult {
  ok: boolean;
  error?: string;
  code?: string;
  ops: number;
  draining: string[];
}

interface QuorumEvent {
  type: 'service.quorum_lost' | 'service.quorum_restored';
  data: { service: string; weight: number; quorum: number };
}

export interface IpvsReconcilerOptions {
  dataplane: Dataplane;
  /** Where the owned service keys are persisted. */
  ownedPath: string;
  now: () => number;
  log: (line: string) => void;
  emit: (e: QuorumEvent) => void;
  /** How long a removed real server may drain before it is deleted anyway. */
  drainTimeoutMs?: number;
}

/**
 * The thin shell around the IPVS planner: reads the kernel, computes the desired table from
 * config + health + quorum, keeps removed servers draining, plans and applies one batch, and
 * records which services it owns. Calls are serialised by the caller (the engine).
 */
export class IpvsReconciler {
  private services: ResolvedService[] = [];
  /** The kernel keys of every configured real server (`configuredDestKeys`): the config's, so made once per config, not at every pass. */
  private configured = new Set<string>();
  private allowMassDelete = false;
  private readonly quorum = new Map<string, boolean>();
  private drain = new Map<string, number>();
  private owned: Set<string> | null = null;
  private health: (key: string) => RealServerHealth = () => ({ up: true, weight: null });
  last: IpvsResult | null = null;
  /** Active connections per realServerKey(serviceKey, dest), from the last kernel read. */
  private conns: ReadonlyMap<string, number> = new Map();
  private readonly ownedFile: StateFile<string[]>;

  constructor(private readonly o: IpvsReconcilerOptions) {
    this.ownedFile = new StateFile(o.ownedPath, { schema: z.array(z.string()), log: o.log, stringify: (v) => JSON.stringify(v) });
  }

  setConfig(services: ResolvedService[], allowMassDelete: boolean): void {
    this.services = services;
    this.configured = configuredDestKeys(services);
    this.allowMassDelete = allowMassDelete;
    for (const k of [...this.quorum.keys()]) if (!services.some((s) => s.name === k)) this.quorum.delete(k);
  }

  setHealth(health: (key: string) => RealServerHealth): void {
    this.health = health;
  }

  /** Active connections of a configured real server at the last pass (0 when the kernel did not say). */
  activeConnections(s: ResolvedService, rs: ResolvedService['realServers'][number]): number {
    return this.conns.get(kernelRealServerKey(s, rs)) ?? 0;
  }

  quorumUp(service: string): boolean {
    return this.quorum.get(service) ?? true;
  }

  /** keepalived update_quorum_state for every service; emits on each change. */
  private updateQuorum(): void {
    for (const s of this.services) {
      const weight = aliveWeight(s, this.health);
      const r = quorumStep(this.quorum.get(s.name), weight, s.quorum, s.hysteresis);
      this.quorum.set(s.name, r.up);
      if (r.changed) {
        this.o.log(`ipvs ${s.name} quorum ${r.up ? 'restored' : 'lost'} (weight ${weight}, quorum ${s.quorum}±${s.hysteresis})`);
        this.o.emit({ type: r.up ? 'service.quorum_restored' : 'service.quorum_lost', data: { service: s.name, weight, quorum: s.quorum } });
      }
    }
  }

  private async loadOwned(): Promise<Set<string>> {
    if (!this.owned) {
      // A corrupt file reads as empty (StateFile logs it); an unreadable one too: owning too
      // little only means a service removed from the config is left in place, never that a
      // service someone else made is deleted.
      this.owned = new Set(
        await this.ownedFile.read([]).catch((e) => {
          this.o.log(`ipvs owned-service file unreadable (${errorText(e)}); owning only what is desired`);
          return [];
        }),
      );
    }
    return this.owned;
  }

  /** One pass: quorum, read, plan, apply. Never throws; the result says what happened. */
  async reconcile(): Promise<IpvsResult> {
    this.updateQuorum();
    try {
      const owned = await this.loadOwned();
      const snap = await this.o.dataplane.ipvsRead();
      // Against a large table, the checks and the plan are runs of the event loop of their own (a
      // 10,000-real-server director's: about 10 and 8 ms; the read itself goes in steps), as at
      // every periodic pass.
      const large = snap.table.reduce((n, s) => n + s.dests.length, 0) > LARGE_TABLE_DESTS;
      if (large) await turnOfTheLoop();
      this.conns = snap.activeConns;
      const base = desiredIpvs(this.services, this.health, (n) => this.quorumUp(n));
      checkMassDelete(base, snap.table, owned, this.allowMassDelete, this.configured);
      const d = withDraining(base, snap.table, this.configured, this.drain, snap.activeConns, this.o.now(), this.o.drainTimeoutMs ?? 60_000);
      if (large) await turnOfTheLoop();
      const ops = planIpvs(d.desired, snap.table, owned);
      for (const s of d.desired) owned.add(serviceKey(s));
      await this.o.dataplane.ipvsApply(ops);
      for (const op of ops) if (op.op === 'delete-service') owned.delete(serviceKey(op.service));
      await this.ownedFile.write([...owned].sort());
      this.drain = d.state;
      if (ops.length) this.o.log(`ipvs applied ${ops.length} operation(s) in one batch`);
      this.last = { ok: true, ops: ops.length, draining: d.draining };
    } catch (e) {
      const code = e instanceof AgentError ? e.code : 'EXEC_FAILED';
      // Owned keys added before a failed batch stay: the services may be half-created and are ours.
      // Written only when they changed; a failed write is retried on the next pass, and when the
      // write itself was what failed, `e` already says so.
      if (this.owned) await this.ownedFile.write([...this.owned].sort()).catch(() => {});
      if (this.last?.error !== errorText(e)) this.o.log(`ipvs failed: ${errorText(e)}`);
      this.last = { ok: false, error: errorText(e), code, ops: 0, draining: [...this.drain.keys()] };
    }
    return this.last;
  }
}
