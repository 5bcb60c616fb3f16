import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { buildAgentBundle } from './agent-bundle';
import { buildNodeRuntime } from './node-runtime';
import { buildKvprobePrebuilt } from './kvprobe-prebuilt';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(repoRoot, 'build');

export async function buildRenderer(): Promise<void> {
  await viteBuild({ configFile: path.join(buildDir, 'vite.config.ts') });
}

/**
 * Electron main and preload as CommonJS bundles. The preload runs sandboxed, where only
 * 'electron' and a few built-ins can be required, so everything else must be bundled in.
 */
export async function buildElectron(outDir: string = path.join(repoRoot, 'dist/electron')): Promise<void> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning' as const,
    // 'electron' is provided by the runtime; ssh2's optional native parts are never built (package.json).
    // playwright-core prints PDFs in browser/CLI mode only (the desktop uses printToPDF); loaded on demand.
    external: ['electron', 'cpu-features', './crypto/build/Release/sshcrypto.node', 'playwright-core'],
  };
  await esbuild({
    ...common,
    entryPoints: [path.join(repoRoot, 'electron/main/main.ts')],
    outfile: path.join(outDir, 'main.cjs'),
    // import.meta.url is not defined in CommonJS; give bundled code a stand-in pointing at the bundle.
    define: { 'import.meta.url': '__handoffImportMetaUrl' },
    banner: { js: "const __handoffImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  await esbuild({
    ...common,
    entryPoints: [path.join(repoRoot, 'electron/main/preload.ts')],
    outfile: path.join(outDir, 'preload.cjs'),
    platform: 'browser',
  });
}

/**
 * What the app uploads to hosts: the agent bundle, and the x64 Node runtime for hosts without
 * Node 20+ (built once per version, then reused). The arm64 runtime needs a registry download
 * (build/node-runtime.ts), so it is made on first use by the CLI rather than here.
 */
export async function buildAgentArtifacts(): Promise<string[]> {
  return [await buildAgentBundle(), await buildNodeRuntime('x64')];
}

async function main(argv: readonly string[]): Promise<void> {
  const unknown = argv.filter((a) => a !== '--renderer-only');
  if (unknown.length > 0) throw new Error(`build: unknown argument(s) ${unknown.join(' ')}; the only option is --renderer-only`);
  const t0 = Date.now();
  await buildRenderer();
  console.log(`build: renderer → dist/renderer (${Date.now() - t0} ms)`);
  if (argv.includes('--renderer-only')) return;
  const t1 = Date.now();
  await buildElectron();
  console.log(`build: electron main + preload → dist/electron (${Date.now() - t1} ms)`);
  const t2 = Date.now();
  const files = await buildAgentArtifacts();
  console.log(`build: ${files.map((f) => path.relative(repoRoot, f)).join(', ')} (${Date.now() - t2} ms)`);
  console.log(`build: ${buildKvprobePrebuilt().message}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
