import { defineConfig } from 'vitest/config';

// Netns lab: real VRRP packets between agents and keepalived in network namespaces (root).
// One file at a time. Two at a time (each lab has namespaces of its own) took 405–557 s down to
// ~240 s, but the takeover bounds the files assert (e.g. 100 ms adverts: one advert + skew + a small
// margin) are for a host that is not also running another lab: a clean-clone run failed one at
// 228 ms against its 211 ms bound.
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
