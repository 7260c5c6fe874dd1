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
    // Two files at a time (vitest's default is one less than the CPUs: one on a 2-core CI host).
    // Most files wait on sockets, child processes and timers, not on the CPU: measured on such a
    // host, 362 s with two against 710 s with one. A test that fails only beside another is a
    // test (or product) bug to fix, not a reason to run alone.
    maxWorkers: 2,
  },
});
