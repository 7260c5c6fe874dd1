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
    // Three files at a time on two cores: many files spend most of their time waiting (processes
    // starting, brokers, timers), so a third overlaps that wait: 378 s here, where two took 602 s
    // (166 s of it the replica chaos test, before its shorter webhook timeout; 78 s with three). The two tests that once failed only in parallel
    // were races of their own, both fixed (the VRRP driver's BFD test; the kernel lab's clean-up,
    // which a second TERM from `timeout` cut short, run alone or not).
    maxWorkers: 3,
  },
});
