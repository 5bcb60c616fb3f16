import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{common,electron,renderer,agents,build,bench}/**/*.test.{ts,tsx}', 'e2e/**/*.itest.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
