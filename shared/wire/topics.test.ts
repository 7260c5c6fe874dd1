import { describe, expect, it } from 'vitest';
import { NODE_ID_RE, TOPIC_PREFIX, nodeIdOf, parseNodeTopic, splitNodeId, topics } from './topics.ts';

describe('topics', () => {
  it('formats the three per-node topics and the ingest filters', () => {
    expect(topics.desired('bj-dc1.dr1')).toBe('lvsfleet/v1/nodes/bj-dc1.dr1/desired');
    expect(topics.status('bj-dc1.dr1')).toBe('lvsfleet/v1/nodes/bj-dc1.dr1/status');
    expect(topics.events('bj-dc1.dr1')).toBe('lvsfleet/v1/nodes/bj-dc1.dr1/events');
    expect(topics.allStatus).toBe(`${TOPIC_PREFIX}/+/status`);
    expect(topics.allEvents).toBe(`${TOPIC_PREFIX}/+/events`);
  });

  it('parses what it formats', () => {
    for (const kind of ['desired', 'status', 'events'] as const)
      expect(parseNodeTopic(topics[kind]('s.n.with.dots'))).toEqual({ nodeId: 's.n.with.dots', kind });
  });

  it.each([
    'lvsfleet/v1/nodes/+/status',
    'lvsfleet/v1/nodes/#',
    'lvsfleet/v1/nodes//status',
    'lvsfleet/v1/nodes/a/b/status',
    'lvsfleet/v1/nodes/a/config',
    'lvsfleet/v2/nodes/a/status',
    'x/lvsfleet/v1/nodes/a/status',
    'lvsfleet/v1/nodes/a/status/',
  ])('refuses %s', (topic) => expect(parseNodeTopic(topic)).toBeNull());

  it('nodeId is site.node and splits back at the first dot', () => {
    expect(nodeIdOf('bj-dc1', 'dr1')).toBe('bj-dc1.dr1');
    expect(splitNodeId('bj-dc1.dr1')).toEqual({ site: 'bj-dc1', node: 'dr1' });
    expect(splitNodeId('bj-dc1.web.1')).toEqual({ site: 'bj-dc1', node: 'web.1' });
    for (const bad of ['nodot', '.dr1', 'site.', 'a/b.c', 'a+b.c', '', `${'s'.repeat(64)}.${'n'.repeat(64)}`]) expect(splitNodeId(bad), bad).toBeNull();
  });

  it('the longest site and node names still make a valid nodeId', () => {
    expect(NODE_ID_RE.test(nodeIdOf('s'.repeat(63), 'n'.repeat(63)))).toBe(true);
  });
});
