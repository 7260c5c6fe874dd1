import { defineConfig } from 'vitest/config';

// Netns lab: real VRRP packets between agents and keepalived in network namespaces (root).
export default defineConfig({
  test: {
    include: ['**/*.lab.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
