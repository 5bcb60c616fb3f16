import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * kvprobe's sources travel inside the agent bundle: build/agent-bundle.ts defines these constants
 * with the file texts, so a host gets them with the one uploaded file and can build kvprobe with its
 * own nvcc, or run the PyTorch fallback. Run from source (tsx), they are read from native/.
 */
declare const __HANDOFF_KVPROBE_CU__: string | undefined;
declare const __HANDOFF_KVPROBE_BUILD_SH__: string | undefined;
declare const __HANDOFF_KVPROBE_TORCH_PY__: string | undefined;

export interface KvprobeSources {
  cu: string;
  buildSh: string;
  torchPy: string;
  /** sha256 of kvprobe.cu, first 16 hex digits: the same as `native/build-kvprobe.sh --hash`. */
  sourceHash: string;
}

export const KVPROBE_SOURCE_FILES = { cu: 'native/kvprobe/kvprobe.cu', buildSh: 'native/build-kvprobe.sh', torchPy: 'native/kvprobe_torch.py' } as const;

export function kvprobeSourceHash(cu: string): string {
  return crypto.createHash('sha256').update(cu, 'utf8').digest('hex').slice(0, 16);
}

let cached: KvprobeSources | null = null;

export function kvprobeSources(): KvprobeSources {
  if (cached) return cached;
  const bundled = typeof __HANDOFF_KVPROBE_CU__ === 'string' && typeof __HANDOFF_KVPROBE_BUILD_SH__ === 'string' && typeof __HANDOFF_KVPROBE_TORCH_PY__ === 'string';
  let cu: string, buildSh: string, torchPy: string;
  if (bundled) {
    cu = __HANDOFF_KVPROBE_CU__ as string;
    buildSh = __HANDOFF_KVPROBE_BUILD_SH__ as string;
    torchPy = __HANDOFF_KVPROBE_TORCH_PY__ as string;
  } else {
    const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    const read = (rel: string) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');
    cu = read(KVPROBE_SOURCE_FILES.cu);
    buildSh = read(KVPROBE_SOURCE_FILES.buildSh);
    torchPy = read(KVPROBE_SOURCE_FILES.torchPy);
  }
  cached = { cu, buildSh, torchPy, sourceHash: kvprobeSourceHash(cu) };
  return cached;
}
