import type { NodeConfig, ResolvedService } from '#shared/config/node-config.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import type { Transition } from '../checks/types.ts';

/**
 * The engine's view of the health checker and the VRRP runner (interfaces between parts:
 * agent/src/checks/index.ts startHealthChecker, agent/src/vrrp/index.ts startVrrp). Injected, so
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
}) => HealthCheckerPart;

export interface VrrpPart {
  update(config: NodeConfig['vrrp']): Promise<void>;
  status(): NonNullable<NodeStatus['vrrp']>;
  /** Graceful: priority-0 advert, VIPs removed (keepalived on SIGTERM). */
  stop(): Promise<void>;
}

/** startVrrp with its host already bound. */
export type StartVrrpPart = (o: {
  nodeId: string;
  node: NodeConfig['node'];
  config: NodeConfig['vrrp'];
  emit(e: NodeEvent): void;
  log(line: string): void;
}) => Promise<VrrpPart>;
