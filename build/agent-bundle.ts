import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

/**
 * Bundles agents/main.ts and everything it reaches (zod, prom-client, common/) into one CommonJS
 * file, dist/agent/handoff-agent.cjs, that any Node >= 20 runs with no node_modules. Dynamic
 * imports of subcommands stay lazy inside the single file: esbuild wraps those modules in
 * initialisers that run on first import, so `attach` does not evaluate the daemon or the mocker.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const AGENT_BUNDLE_PATH = path.join(repoRoot, 'dist', 'agent', 'handoff-agent.cjs');

/**
 * zod re-exports translations of its error messages in every language it ships (about 40% of the
 * bundle). The agent reports errors in English only, and `attach` parses the whole file on every
 * SSH connect, so the index of locales is replaced with English alone.
 */
const englishOnlyZodLocales: esbuild.Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
      resolveDir: path.join(repoRoot, 'node_modules', 'zod', 'v4', 'locales'),
    }));
  },
};

/**
 * kvprobe's CUDA source, build script and PyTorch fallback go inside the bundle as string
 * constants (agents/probe/kvprobe-sources.ts), so a host can build or run it from the one file.
 */
async function kvprobeSourceDefines(): Promise<Record<string, string>> {
  const read = (rel: string) => fs.readFile(path.join(repoRoot, rel), 'utf8');
  const [cu, buildSh, torchPy] = await Promise.all([read('native/kvprobe/kvprobe.cu'), read('native/build-kvprobe.sh'), read('native/kvprobe_torch.py')]);
  return { __HANDOFF_KVPROBE_CU__: JSON.stringify(cu), __HANDOFF_KVPROBE_BUILD_SH__: JSON.stringify(buildSh), __HANDOFF_KVPROBE_TORCH_PY__: JSON.stringify(torchPy) };
}

export async function buildAgentBundle(outFile: string = AGENT_BUNDLE_PATH): Promise<string> {
  await fs.mkdir(path.dirname(outFile), { recursive: true });
  // Written beside and renamed: tests and the CLI may build concurrently and must never read half a file.
  const tmp = `${outFile}.${process.pid}.${Date.now()}.tmp`;
  try {
    await esbuild.build({
      entryPoints: [path.join(repoRoot, 'agents', 'main.ts')],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [englishOnlyZodLocales],
      // import.meta does not exist in CommonJS; modules that locate files next to themselves get the bundle's own URL.
      define: { 'import.meta.url': '__handoffImportMetaUrl', ...(await kvprobeSourceDefines()) },
      banner: { js: '#!/usr/bin/env node\n"use strict";var __handoffImportMetaUrl=require("url").pathToFileURL(__filename).href;' },
    });
    await fs.chmod(tmp, 0o755);
    await fs.rename(tmp, outFile);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return outFile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  buildAgentBundle().then(
    async (p) => process.stdout.write(`${path.relative(process.cwd(), p)} (${Math.round((await fs.stat(p)).size / 1024)} KiB)\n`),
    (err: unknown) => {
      process.stderr.write(`agent bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
