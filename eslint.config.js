// Import boundaries follow DESIGN.md: common <- everything; electron/control never imports
// 'electron'; renderer talks only to the typed API in common/; agents never import electron/ or renderer/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.venv*/**', 'native/**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/include': ['common/**', 'electron/**', 'renderer/**', 'agents/**', 'e2e/**', 'bench/**', 'build/**'],
      'boundaries/elements': [
        { type: 'common', pattern: 'common/**', mode: 'full' },
        { type: 'electron-main', pattern: 'electron/main/**', mode: 'full' },
        { type: 'control', pattern: 'electron/control/**', mode: 'full' },
        { type: 'cli', pattern: 'electron/cli/**', mode: 'full' },
        { type: 'renderer', pattern: 'renderer/**', mode: 'full' },
        { type: 'agents', pattern: 'agents/**', mode: 'full' },
        { type: 'e2e', pattern: 'e2e/**', mode: 'full' },
        { type: 'bench', pattern: 'bench/**', mode: 'full' },
        { type: 'build', pattern: 'build/**', mode: 'full' },
      ],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'boundaries/element-types': ['error', {
        default: 'disallow',
        rules: [
          { from: 'common', allow: ['common'] },
          { from: 'agents', allow: ['common', 'agents'] },
          { from: 'control', allow: ['common', 'control'] },
          { from: 'cli', allow: ['common', 'control', 'cli', 'build'] },
          { from: 'electron-main', allow: ['common', 'control', 'electron-main'] },
          { from: 'renderer', allow: ['common', 'renderer'] },
          { from: 'e2e', allow: ['common', 'control', 'cli', 'agents', 'e2e', 'build'] },
          { from: 'bench', allow: ['common', 'control', 'cli', 'agents', 'e2e', 'bench', 'build'] },
          { from: 'build', allow: ['common', 'build'] },
        ],
      }],
    },
  },
  {
    // Only electron/main may touch the electron module.
    files: ['common/**', 'electron/control/**', 'electron/cli/**', 'renderer/**', 'agents/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only electron/main may import electron (DESIGN.md).' }] }] },
  },
  {
    // common/ is shared with the renderer and agents: no Node built-ins, no DOM.
    files: ['common/**'],
    ignores: ['common/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'child_process', 'net', 'os', 'http', 'crypto'], message: 'common/ must stay free of Node built-ins (DESIGN.md).' }] }] },
  },
  {
    files: ['renderer/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'ssh2', 'fs', 'child_process'], message: 'The renderer talks only to the typed API (common/api-contract.ts).' }] }] },
  },
  {
    // CommonJS test scripts (e.g. the electron stub that bundles require at run time).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
