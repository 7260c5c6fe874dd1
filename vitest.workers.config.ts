import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Tests that run inside workerd (the Workers runtime). The global setup (Node) gives them a
// database (PostgreSQL with DATABASE_URL, else PGlite over pglite-socket), a broker (MQTT_URL, else
// the embedded one), a webhook receiver and a relay for a real agent process; see its comment.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_SEND_METRICS = 'false';

class FlowFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isFlow = (f: TestSpecification) => f.moduleId.endsWith('/flow.test.ts');
    return [...sorted.filter(isFlow), ...sorted.filter((f) => !isFlow(f))];
  }
}

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => {
      // The names are declared beside the global setup, which the Node typecheck leaves out.
      const provided = (name: string) => inject(name as never) as string;
      return {
        main: './cloud/src/worker.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            DATABASE_URL: provided('workersDatabaseUrl'),
            MQTT_URL: provided('workersMqttUrl'),
            // Agents reach this Worker through the relay; enrollment tells them to report there.
            PUBLIC_URL: provided('workersRelayUrl'),
            WEBHOOK_ALLOW_PRIVATE: 'on',
            // The signing key is stored sealed: the agent's verification proves it opened.
            SIGNING_KEY_SECRET: 'workers-test-key-secret',
            METRICS_TOKEN: 'workers-test-scrape-token',
          },
        },
      };
    }),
  ],
  test: {
    include: ['cloud/test-workers/**/*.test.ts'],
    // flow.test.ts first: its key rotation wakes every site's publisher. A publisher Durable
    // Object an earlier file made would then work again inside flow's file, and workerd refuses
    // I/O across objects of different test files (a run hung on it). After flow, the others. Each
    // file ends with every site's publisher idle (the setup file), so none goes on into the next.
    sequence: { sequencer: FlowFirst },
    globalSetup: ['./cloud/test-workers/global-setup.ts'],
    setupFiles: ['./cloud/test-workers/settle-durable-objects.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
