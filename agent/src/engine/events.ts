import type { NodeEvent } from '#shared/wire/events.ts';

/** A NodeEvent without the envelope the engine adds (nodeId, at). */
export type EventBody = NodeEvent extends infer E ? (E extends NodeEvent ? Omit<E, 'nodeId' | 'at'> : never) : never;

/** Adds nodeId and a wall-clock timestamp to an event body. */
export function makeEvent(nodeId: string, body: EventBody, at = new Date()): NodeEvent {
  return { ...body, nodeId, at: at.toISOString() } as NodeEvent;
}
