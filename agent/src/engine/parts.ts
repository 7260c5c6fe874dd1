import type { NodeConfig, ResolvedBfd, ResolvedService } from '#shared/config/node-config.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { BfdState, NodeStatus } from '#shared/wire/status.ts';
import type { Transition } from '../checks/types.ts';

/**
 * The engine's view of the health checker and the VRRP runner (interfaces between parts:
 * agent/src/checks/health-checker.ts startHealthChecker, agent/src/vrrp/driver.ts startVrrp). Injected, so
 * the engine runs and is tested without either, and the CLI binds the real ones.
 */
/** What the health checker reports (agent/src/checks/types.ts). */
export type HealthTransition = Transition;

export interface HealthCheckerPart {
  update(services: ResolvedService[]): void;
  state(): Map<string, { up: boolean; weight: number | null; detail: string; checked: boolean }>;
  stop(): Promise<void>;
}

export type StartHealthChecker = (o: {
  services: ResolvedService[];
  onTransition(t: HealthTransition): void;
  log?: (line: string) => void;
}) => HealthCheckerPart | Promise<HealthCheckerPart>; // a promise when the checkers' code is loaded on first use

export interface VrrpPart {
  update(config: NodeConfig['vrrp']): Promise<void>;
  status(): NonNullable<NodeStatus['vrrp']>;
  /** Graceful: priority-0 advert, VIPs removed (keepalived on SIGTERM). */
  stop(): Promise<void>;
  /** A BFD session went Up or Down (agent/src/vrrp/driver.ts). */
  bfd(change: { name: string; up: boolean }): void;
}

/** The BFD driver (agent/src/bfd/driver.ts startBfd) as the engine uses it. */
export interface BfdPart {
  update(sessions: ResolvedBfd[]): Promise<void>;
  status(): { name: string; peer: string; state: BfdState; forMs: number; detectionTimeMs: number }[];
  /** Graceful: every session signals AdminDown to its peer. */
  stop(): Promise<void>;
}

export interface BfdChange {
  name: string;
  peer: string;
  from: BfdState;
  to: BfdState;
  diag: number;
  reason: string;
}

/** startBfd with its options bound. */
export type StartBfdPart = (o: { sessions: ResolvedBfd[]; onChange(c: BfdChange): void; log(line: string): void }) => Promise<BfdPart>;

/** startVrrp with its host already bound. */
export type StartVrrpPart = (o: {
  nodeId: string;
  node: NodeConfig['node'];
  config: NodeConfig['vrrp'];
  emit(e: NodeEvent): void;
  log(line: string): void;
}) => Promise<VrrpPart>;
