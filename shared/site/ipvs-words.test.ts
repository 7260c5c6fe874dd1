import { describe, expect, it } from 'vitest';
import { NodeConfig } from '../config/node-config.ts';
import { HealthCheck } from './health-check.ts';
import { CHECK_TYPES, FORWARDING, SCHEDULER_FLAGS, SCHEDULERS } from './ipvs-words.ts';
import { Service } from './service.ts';

// The lists live apart from the schemas that take them: these say the spec and the node config
// still take exactly these words, so a check type or scheduler added to one side only fails here.
describe('the words the spec and the node config share', () => {
  it('the spec takes a health check of each type listed, and no other', () => {
    expect(HealthCheck.options.map((o) => o.shape.type.value).sort()).toEqual([...CHECK_TYPES].sort());
  });

  it('the spec and the node config take the same schedulers, flags and forwarding methods', () => {
    const svc = Service.shape;
    const resolved = NodeConfig.shape.services.element.shape;
    expect(svc.scheduler.unwrap().options).toEqual([...SCHEDULERS]);
    expect(resolved.scheduler.options).toEqual([...SCHEDULERS]);
    expect(svc.schedulerFlags.unwrap().element.options).toEqual([...SCHEDULER_FLAGS]);
    expect(resolved.schedulerFlags.element.options).toEqual([...SCHEDULER_FLAGS]);
    expect(svc.forwarding.unwrap().options).toEqual([...FORWARDING]);
    expect(resolved.realServers.element.shape.forwarding.options).toEqual([...FORWARDING]);
    expect(resolved.realServers.element.shape.healthCheck.unwrap().shape.type.options).toEqual([...CHECK_TYPES]);
  });
});
