import { TOPIC_PREFIX, topics } from '#shared/wire/topics.ts';

/**
 * Mosquitto dynamic-security commands (mosquitto ≥ 2.0, `$CONTROL/dynamic-security/v1`) that
 * grant exactly what acl.ts grants. Pure: the shell that sends them is dynsec.ts.
 *
 * Literal ACL types are used for nodes so that `+`/`#` in a client's filter never match
 * (`subscribeLiteral` compares the filter as a plain string).
 */
export type DynsecCommand = { command: string } & Record<string, unknown>;
export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribePattern';
  topic: string;
  allow: boolean;
  priority?: number;
}

export const CLOUD_ROLE = 'lvsfleet-cloud';
export const nodeRole = (nodeId: string) => `lvsfleet-node-${nodeId}`;

/** A node's role: subscribe to and receive its desired topic; send its status and events. */
export function nodeAcls(nodeId: string): DynsecAcl[] {
  return [
    { acltype: 'subscribeLiteral', topic: topics.desired(nodeId), allow: true },
    { acltype: 'publishClientReceive', topic: topics.desired(nodeId), allow: true },
    { acltype: 'publishClientSend', topic: topics.status(nodeId), allow: true },
    { acltype: 'publishClientSend', topic: topics.events(nodeId), allow: true },
  ];
}

/** The cloud's role: everything under the node topics (publisher and ingest). */
function cloudAcls(): DynsecAcl[] {
  const all = `${TOPIC_PREFIX}/#`;
  return [
    { acltype: 'publishClientSend', topic: all, allow: true },
    { acltype: 'publishClientReceive', topic: all, allow: true },
    { acltype: 'subscribePattern', topic: all, allow: true },
    { acltype: 'unsubscribePattern', topic: all, allow: true },
  ];
}

/**
 * Once per broker: deny by default (including receiving, which Mosquitto allows by default) and
 * give the cloud's admin client (made by `mosquitto_ctrl dynsec init`) the cloud role.
 */
export function bootstrapCommands(cloudUsername: string): DynsecCommand[] {
  return [
    {
      command: 'setDefaultACLAccess',
      acls: [
        { acltype: 'publishClientSend', allow: false },
        { acltype: 'publishClientReceive', allow: false },
        { acltype: 'subscribe', allow: false },
        { acltype: 'unsubscribe', allow: true },
      ],
    },
    { command: 'createRole', rolename: CLOUD_ROLE, textname: 'lvsfleet cloud (publisher, ingest)', acls: cloudAcls() },
    { command: 'addClientRole', username: cloudUsername, rolename: CLOUD_ROLE, priority: 10 },
  ];
}

/** At enrollment: the node's role and client (clientid pinned to the username, like aedes). */
export function enrollCommands(nodeId: string, password: string): DynsecCommand[] {
  return [
    { command: 'createRole', rolename: nodeRole(nodeId), textname: `lvsfleet node ${nodeId}`, acls: nodeAcls(nodeId) },
    {
      command: 'createClient',
      username: nodeId,
      password,
      clientid: nodeId,
      textname: `lvsfleet node ${nodeId}`,
      roles: [{ rolename: nodeRole(nodeId), priority: 10 }],
    },
  ];
}

/**
 * Re-enrollment of a client that exists: a new password (Mosquitto disconnects its sessions).
 * The role is attached separately, only when missing: mosquitto 2.0.11 answers "Internal error"
 * to addClientRole for a role the client already has.
 */
export function reenrollCommands(nodeId: string, password: string): DynsecCommand[] {
  return [
    { command: 'setClientPassword', username: nodeId, password },
    { command: 'setClientId', username: nodeId, clientid: nodeId },
  ];
}

/** Errors that mean "already as wanted" when a command is repeated. */
export function isAlreadyDone(error: string): boolean {
  return /already exists|already has|is already/i.test(error);
}
