import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real peer processes; keep CPU contention on a 2-core machine sane.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
