import { describe, expect, it } from 'vitest';
import { INTERNAL_USERNAME, isNodeUsername, mayPublish, maySubscribe } from './acl.ts';

const me = 'bj-dc1.dr1';
const other = 'bj-dc1.dr2';
const t = (id: string, kind: string) => `lvsfleet/v1/nodes/${id}/${kind}`;

describe('maySubscribe', () => {
  it('allows a node its own desired topic only', () => {
    expect(maySubscribe(me, t(me, 'desired'))).toBe(true);
    expect(maySubscribe(me, t(me, 'status'))).toBe(false);
    expect(maySubscribe(me, t(me, 'events'))).toBe(false);
  });
  it.each([
    '#',
    '+',
    '+/+/+/+/+',
    'lvsfleet/#',
    'lvsfleet/v1/nodes/#',
    'lvsfleet/v1/nodes/+/desired',
    `lvsfleet/v1/nodes/${me}/#`,
    `lvsfleet/v1/nodes/${me}/+`,
    'lvsfleet/v1/nodes/bj-dc1.dr+/desired',
    t(other, 'desired'),
    t(other, 'status'),
    '$SYS/#',
    '$SYS/broker/clients/connected',
    '$CONTROL/dynamic-security/v1',
    `lvsfleet/v1/nodes/${me}/../${other}/desired`,
    `lvsfleet/v1/nodes/${me}/desired/#`,
    `lvsfleet/v1/nodes/${me}/desired/`,
    `/lvsfleet/v1/nodes/${me}/desired`,
    `lvsfleet/v1/nodes/${me}//desired`,
    `$share/g/lvsfleet/v1/nodes/${me}/desired`,
    `lvsfleet/v1/nodes/${me}/desired\u0000`,
    '',
  ])('refuses a node the filter %j', (filter) => {
    expect(maySubscribe(me, filter)).toBe(false);
  });
});

describe('mayPublish', () => {
  it('allows a node its own status and events', () => {
    expect(mayPublish(me, t(me, 'status'))).toBe(true);
    expect(mayPublish(me, t(me, 'events'))).toBe(true);
  });
  it.each([
    t(me, 'desired'),
    t(other, 'status'),
    t(other, 'events'),
    t(other, 'desired'),
    `lvsfleet/v1/nodes/a/../${me}/status`,
    `lvsfleet/v1/nodes/${me}/../${other}/status`,
    `lvsfleet/v1/nodes/${me}/status/x`,
    `lvsfleet/v1/nodes/${me}/Status`,
    '$SYS/broker/x',
    '$CONTROL/dynamic-security/v1',
    'lvsfleet/v1/nodes/+/status',
    'anything',
    '',
  ])('refuses a node the topic %j', (topic) => {
    expect(mayPublish(me, topic)).toBe(false);
  });
});

describe('usernames', () => {
  it('gives the internal user everything', () => {
    expect(mayPublish(INTERNAL_USERNAME, t(me, 'desired'))).toBe(true);
    expect(maySubscribe(INTERNAL_USERNAME, 'lvsfleet/v1/nodes/+/status')).toBe(true);
  });
  it.each(['', 'nodot', 'a/b.c', 'a.b/c', '+.x', '#', 'a.#', '.a', 'x'.repeat(129) + '.y'])('refuses %j as a node', (u) => {
    expect(isNodeUsername(u)).toBe(false);
    expect(mayPublish(u, t(u, 'status'))).toBe(false);
    expect(maySubscribe(u, t(u, 'desired'))).toBe(false);
  });
  it('accepts site.node ids', () => {
    expect(isNodeUsername('bj-dc1.dr1')).toBe(true);
    expect(isNodeUsername('a.b.c')).toBe(true);
  });
});
