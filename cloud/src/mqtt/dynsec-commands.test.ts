import { describe, expect, it } from 'vitest';
import { bootstrapCommands, enrollCommands, isAlreadyDone, nodeAcls, nodeRole, reenrollCommands } from './dynsec-commands.ts';
import { mayPublish, maySubscribe } from './acl.ts';

const me = 'bj-dc1.dr1';

describe('dynamic-security commands', () => {
  it('grant a node exactly what acl.ts grants, as literal topics', () => {
    const acls = nodeAcls(me);
    expect(acls.every((a) => a.allow && !/[+#]/.test(a.topic))).toBe(true);
    for (const a of acls) {
      if (a.acltype === 'publishClientSend') expect(mayPublish(me, a.topic)).toBe(true);
      else expect(maySubscribe(me, a.topic)).toBe(true);
    }
    expect(acls.filter((a) => a.acltype === 'publishClientSend').map((a) => a.topic)).toEqual([
      `lvsfleet/v1/nodes/${me}/status`,
      `lvsfleet/v1/nodes/${me}/events`,
    ]);
    expect(acls.filter((a) => a.acltype === 'subscribeLiteral').map((a) => a.topic)).toEqual([`lvsfleet/v1/nodes/${me}/desired`]);
  });

  it('pin the clientid to the username and attach the node role', () => {
    const [role, client] = enrollCommands(me, 'pw');
    expect(role).toMatchObject({ command: 'createRole', rolename: nodeRole(me) });
    expect(client).toMatchObject({ command: 'createClient', username: me, clientid: me, password: 'pw', roles: [{ rolename: nodeRole(me) }] });
    expect(reenrollCommands(me, 'new')).toEqual([
      { command: 'setClientPassword', username: me, password: 'new' },
      { command: 'setClientId', username: me, clientid: me },
    ]);
  });

  it('deny by default, receiving included, and add the cloud role last', () => {
    const cmds = bootstrapCommands('lvsfleet-cloud');
    expect(cmds[0].acls).toContainEqual({ acltype: 'publishClientReceive', allow: false });
    expect(cmds.at(-1)).toMatchObject({ command: 'addClientRole', username: 'lvsfleet-cloud' });
  });

  it('treats "already exists" answers as done, not other errors', () => {
    expect(isAlreadyDone('Role already exists')).toBe(true);
    expect(isAlreadyDone('Client already exists')).toBe(true);
    expect(isAlreadyDone('Internal error')).toBe(false);
    expect(isAlreadyDone('Client not found')).toBe(false);
  });
});
