import { defineConfig } from 'vitest/config';

// Netns lab: real VRRP packets between agents and keepalived in network namespaces (root).
// Two files at a time: each lab makes namespaces under a random prefix of its own (agent/lab/netns.ts,
// the differential lab's carry its pid), so files share no network, and most of their time is VRRP
// and BFD timers waiting, not CPU (a whole run: ~190 s of CPU in 400–550 s serial, ~240 s two at a time).
// Not more than two: the bounds the files print (takeover gaps, BFD detection) are for a 2-core host
// that is not saturated.
export default defineConfig({
  test: {
    include: ['**/*.lab.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
  },
});
