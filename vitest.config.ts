import { defineConfig } from 'vitest/config';

// Unit + integration tests. Root/netns lab tests (*.lab.test.ts), the kernel lab,
// browser e2e (*.e2e.test.ts) and the workerd tests have their own configs.
export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'cloud/**/*.test.ts', 'agent/**/*.test.ts', 'infra/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.lab.test.ts', '**/*.e2e.test.ts', 'cloud/test-workers/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: 360–460 s here against 520 s with one. The two tests that once failed
    // only this way were races of their own, both fixed (the VRRP driver's BFD test; the kernel
    // lab's clean-up, which a second TERM from `timeout` cut short, run alone or not).
    maxWorkers: 2,
  },
});
