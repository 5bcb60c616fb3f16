import { defineConfig } from 'vitest/config';

/**
 * Files that keep a real vLLM engine busy for minutes. On a small machine its compute threads
 * starve whatever runs beside them, so timing-shaped checks elsewhere fail (CI saw constant arrival
 * gaps scatter and a 5 s handshake timeout stretch past 30 s). They run alone, after the rest,
 * with vitest.real-engine.config.ts.
 */
export const REAL_ENGINE_FILES = ['e2e/real-vllm/deploy-real-vllm.itest.ts', 'e2e/nixl-telemetry-vllm.itest.ts'];

export default defineConfig({
  test: {
    include: ['{common,electron,renderer,agents,build,bench}/**/*.test.{ts,tsx}', 'e2e/**/*.itest.ts'],
    exclude: ['**/node_modules/**', ...REAL_ENGINE_FILES],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
