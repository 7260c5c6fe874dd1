import { NODE_ID_RE, topics } from '#shared/wire/topics.ts';

/**
 * Broker ACLs (docs/architecture.md, "Trust model"), pure so aedes, the Mosquitto dynamic-security roles and
 * the EMQX acl.conf can all be checked against one definition.
 *
 * A node authenticates as its nodeId and may subscribe to exactly its own `desired` topic and
 * publish to exactly its own `status` and `events` topics. Matching is by string equality, so
 * wildcards (`#`, `+`), `$SYS`, other nodes' topics and path tricks (`a/../b`) never match.
 */

/** The cloud's own broker user (publisher, ingest). Node ids always contain a dot; this never does. */
export const INTERNAL_USERNAME = 'lvsfleet-cloud';

/** True for a username that can belong to a node (`${site}.${node}`, topic-safe). */
export function isNodeUsername(username: string): boolean {
  return NODE_ID_RE.test(username) && username.includes('.') && username !== INTERNAL_USERNAME;
}

/** May `username` publish to `topic`? (Retained or not: a node has no topic where retain matters but status.) */
export function mayPublish(username: string, topic: string): boolean {
  if (username === INTERNAL_USERNAME) return true;
  if (!isNodeUsername(username)) return false;
  return topic === topics.status(username) || topic === topics.events(username);
}

/** May `username` subscribe to `topicFilter`? Nodes: only their own desired topic, no wildcards. */
export function maySubscribe(username: string, topicFilter: string): boolean {
  if (username === INTERNAL_USERNAME) return true;
  if (!isNodeUsername(username)) return false;
  return topicFilter === topics.desired(username);
}
