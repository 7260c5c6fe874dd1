import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import { startHealthChecker } from '../checks/health-checker.ts';
import { MemoryHost } from '../dataplane/memory-host.ts';
import { Engine } from './engine.ts';
import { configFor, tempDir } from './engine.test-support.ts';

/** A real TCP server on loopback that the real health checker probes. */
async function listen(port = 0): Promise<Server> {
  const s = createServer((c) => c.end());
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
}

describe('engine with the real health checker (TCP on loopback)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('a real server whose port closes leaves IPVS at once and returns when it listens again', async () => {
    let server = await listen();
    const port = (server.address() as { port: number }).port;
    const config = configFor(
      {
        nodes: [{ name: 'd1', role: 'director', address: '127.0.0.1', interface: 'lo' }],
        services: [
          {
            name: 'web',
            vip: '127.0.0.50',
            port,
            forwarding: 'nat',
            scheduler: 'rr',
            healthCheck: { type: 'tcp', interval: '100ms', timeout: '200ms', retries: 1, retryDelay: '50ms' },
            realServers: [
              { address: '127.0.0.1', port, weight: 3 },
              { address: '127.0.0.2', port, weight: 1, healthCheck: { type: 'tcp', port, address: '127.0.0.1', interval: '1s' } },
            ],
          },
        ],
      },
      'd1',
    );
    const host = new MemoryHost();
    const events: NodeEvent[] = [];
    const engine = new Engine({
      nodeId: 't.d1',
      dataplane: host,
      stateDir: dir,
      log: () => {},
      emit: (e) => events.push(e),
      startHealthChecker: (o) => startHealthChecker(o),
      verifyIntervalMs: 60_000,
    });
    try {
      await engine.apply(config, 1);
      expect(host.ipvs.save()).toContain(`-r 127.0.0.1:${port} -m -w 3`);
      await new Promise<void>((r) => server.close(() => r()));
      await waitFor(() => !host.ipvs.save().includes(`-r 127.0.0.1:${port}`), { timeoutMs: 20_000, what: 'rs removed after its port closed' });
      expect(events.find((e) => e.type === 'realserver.down')?.data).toMatchObject({ service: 'web', address: '127.0.0.1', port, check: 'tcp' });
      server = await listen(port);
      await waitFor(() => host.ipvs.save().includes(`-r 127.0.0.1:${port} -m -w 3`), { timeoutMs: 20_000, what: 'rs back after it listens again' });
      expect(events.some((e) => e.type === 'realserver.up')).toBe(true);
      expect(engine.status().services?.[0].realServers[0]).toMatchObject({ healthy: true, weight: 3 });
    } finally {
      await engine.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
