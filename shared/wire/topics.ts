/** MQTT topics (docs/architecture.md, "Flow of a revision"). A nodeId is `${site}.${node}`. */
export const TOPIC_PREFIX = 'lvsfleet/v1/nodes';

export const topics = {
  desired: (nodeId: string) => `${TOPIC_PREFIX}/${nodeId}/desired`,
  status: (nodeId: string) => `${TOPIC_PREFIX}/${nodeId}/status`,
  events: (nodeId: string) => `${TOPIC_PREFIX}/${nodeId}/events`,
  /** What the cloud subscribes to for ingest. */
  allStatus: `${TOPIC_PREFIX}/+/status`,
  allEvents: `${TOPIC_PREFIX}/+/events`,
} as const;

/** Splits `lvsfleet/v1/nodes/{nodeId}/{kind}`, or null for any other topic. */
export function parseNodeTopic(topic: string): { nodeId: string; kind: 'desired' | 'status' | 'events' } | null {
  const m = /^lvsfleet\/v1\/nodes\/([^/+#]+)\/(desired|status|events)$/.exec(topic);
  return m ? { nodeId: m[1], kind: m[2] as 'desired' | 'status' | 'events' } : null;
}

export function nodeIdOf(site: string, node: string): string {
  return `${site}.${node}`;
}

/** Splits a nodeId at its first "." (site names have none), or null when it is not one. */
export function splitNodeId(nodeId: string): { site: string; node: string } | null {
  if (!NODE_ID_RE.test(nodeId)) return null;
  const dot = nodeId.indexOf('.');
  if (dot <= 0 || dot === nodeId.length - 1) return null;
  return { site: nodeId.slice(0, dot), node: nodeId.slice(dot + 1) };
}

export const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
