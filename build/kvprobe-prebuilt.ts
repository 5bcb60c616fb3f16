import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the agent looks for a prebuilt kvprobe: beside its bundle (agents/probe/probe-plugin.ts). */
export const KVPROBE_PREBUILT_DIR = path.join(repoRoot, 'dist', 'agent', 'kvprobe-prebuilt');

/**
 * Builds kvprobe next to the agent bundle when this machine has nvcc, so "this computer" runs it
 * without compiling. Without nvcc that is normal (hosts build their own or use PyTorch): the
 * result says so and nothing fails.
 */
export function buildKvprobePrebuilt(outDir: string = KVPROBE_PREBUILT_DIR): { built: boolean; message: string } {
  const r = spawnSync('bash', [path.join(repoRoot, 'native', 'build-kvprobe.sh'), '--out', outDir], { encoding: 'utf8', timeout: 10 * 60_000 });
  if (r.status === 0) return { built: true, message: `kvprobe → ${path.relative(repoRoot, path.join(outDir, 'kvprobe'))}` };
  const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop() ?? '';
  return { built: false, message: `no prebuilt kvprobe (${why})` };
}
