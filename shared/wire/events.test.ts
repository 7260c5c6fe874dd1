import { describe, expect, it } from 'vitest';
import { CONDITION_TYPES, EVENT_TYPES, severityAtLeast, severityOf } from './events.ts';

describe('event types and severities', () => {
  it('one list: every agent event, every condition with its resolved twin, presence and the test event, each once', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
    for (const t of ['vrrp.transition', 'apply.succeeded', 'agent.degraded', 'node.online', 'webhook.test']) expect(EVENT_TYPES).toContain(t);
    for (const t of CONDITION_TYPES) expect(EVENT_TYPES).toEqual(expect.arrayContaining([t, `${t}.resolved`]));
  });

  it('normal operation is info; a resolution is as loud as what it resolves', () => {
    expect([severityOf('vrrp.transition'), severityOf('apply.succeeded'), severityOf('node.online')]).toEqual(['info', 'info', 'info']);
    expect([severityOf('site.split_brain'), severityOf('site.split_brain.resolved'), severityOf('realserver.down.resolved')]).toEqual([
      'critical',
      'critical',
      'warning',
    ]);
    expect([severityAtLeast('info', 'warning'), severityAtLeast('critical', 'warning'), severityAtLeast('warning', 'warning')]).toEqual([false, true, true]);
  });

  it('a staged rollout: its progress is info, a rollback or an abort asks a person to look', () => {
    const types = ['rollout.started', 'rollout.stage', 'rollout.completed', 'rollout.rolled_back', 'rollout.aborted'];
    expect(EVENT_TYPES).toEqual(expect.arrayContaining(types));
    expect(types.map(severityOf)).toEqual(['info', 'info', 'info', 'warning', 'warning']);
  });
});
