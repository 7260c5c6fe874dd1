import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Tests that run inside workerd (the Workers runtime) against the real local PostgreSQL.
// The global setup (Node) makes a fresh database, seeds it and provides its URL and a token.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_SEND_METRICS = 'false';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: './cloud/src/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: { DATABASE_URL: (inject('workersDatabaseUrl' as never) as string | undefined) ?? '' },
      },
    })),
  ],
  test: {
    include: ['cloud/test-workers/**/*.test.ts'],
    globalSetup: ['./cloud/test-workers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
