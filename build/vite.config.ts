import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The renderer build. Relative asset URLs let the same output load from `handoff serve` (http) and
 * from the Electron app protocol; no inline scripts, so the strict CSP (script-src 'self') holds.
 */
export default defineConfig({
  root: path.join(repoRoot, 'renderer'),
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: path.join(repoRoot, 'dist/renderer'),
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: true,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
  },
});
