import { Counter, Gauge, Registry } from './prom-core.ts';
import type { Db } from '../db/client.ts';
import type { StatusBook } from '../status/book.ts';
import { readFleetFacts } from './fleet-facts.ts';
import { FLEET_FAMILIES, fleetSamples, type FleetFamily, type Sample } from './fleet-model.ts';

/**
 * The fleet families (`fleet-model.ts`) in a prom-client registry. prom-client's Registry,
 * Gauge and Counter run in workerd too (nodejs_compat), so Node and the Worker also share the
 * text format's writer, not only the model.
 */
export function registerFleetMetrics(registry: Registry): { load(samples: Record<FleetFamily, Sample[]>): void } {
  const metrics = Object.entries(FLEET_FAMILIES).map(([key, f]) => {
    const spec = { name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [registry] };
    return { key: key as FleetFamily, metric: f.type === 'counter' ? new Counter(spec) : new Gauge(spec) };
  });
  return {
    /** Replaces every family's series: those of sites, nodes and alerts that are gone disappear. */
    load(samples) {
      for (const { key, metric } of metrics) {
        metric.reset();
        // A counter has no set(): from zero after the reset, inc() by the count is the same.
        for (const s of samples[key])
          if (metric instanceof Counter) metric.inc(s.labels, s.value);
          else metric.set(s.labels, s.value);
      }
    },
  };
}

/**
 * `/metrics` where no long-lived process keeps anything in memory (the Worker): the fleet
 * families alone, read afresh at every scrape.
 */
export async function renderFleetMetrics(db: Db, book: StatusBook, now = Date.now()): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  registerFleetMetrics(registry).load(fleetSamples(await readFleetFacts(db, book, now), now));
  return { contentType: registry.contentType, body: await registry.metrics() };
}
