import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Tests that run inside workerd (the Workers runtime). The global setup (Node) gives them a
// database (PostgreSQL with DATABASE_URL, else PGlite over pglite-socket), a broker (MQTT_URL, else
// the embedded one), a webhook receiver and a relay for a real agent process; see its comment.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_SEND_METRICS = 'false';

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
    globalSetup: ['./cloud/test-workers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
