import { defineConfig } from 'vitest/config';
import { REAL_ENGINE_FILES } from './vitest.config';

/** The real-vLLM files, one at a time with nothing else running (see REAL_ENGINE_FILES). */
export default defineConfig({
  test: {
    include: REAL_ENGINE_FILES,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
