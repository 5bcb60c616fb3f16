import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HANDOFF_VERSION } from '../../common/version';
import { kvprobePrebuiltBeside, type AgentArtifacts } from '../control/agent/agent-install';
import { buildAgentBundle } from '../../build/agent-bundle';
import { buildNodeRuntime } from '../../build/node-runtime';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sourceDirs = ['agents', 'common', 'native'].map((d) => path.join(repoRoot, d));

function newestSourceMtimeMs(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name) && !e.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of sourceDirs) if (fs.existsSync(d)) walk(d);
  return newest;
}

/**
 * The agent bundle the CLI uploads: rebuilt from source when missing or older than the sources,
 * so `npm run -s handoff` from a checkout always installs the code it was run from.
 */
export async function ensureAgentArtifacts(): Promise<AgentArtifacts> {
  const bundle = process.env.HANDOFF_AGENT_BUNDLE ?? path.join(repoRoot, 'dist', 'agent', 'handoff-agent.cjs');
  const fresh = fs.existsSync(bundle) && (process.env.HANDOFF_AGENT_BUNDLE !== undefined || !fs.existsSync(sourceDirs[0]!) || fs.statSync(bundle).mtimeMs >= newestSourceMtimeMs());
  const bundlePath = fresh ? bundle : await buildAgentBundle();
  return {
    version: HANDOFF_VERSION,
    bundlePath,
    runtimeTarball: (arch) => buildNodeRuntime(arch),
    kvprobePrebuiltDir: kvprobePrebuiltBeside(bundlePath),
  };
}
