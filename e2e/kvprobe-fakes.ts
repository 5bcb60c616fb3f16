/**
 * Stand-ins for a GPU host's CUDA toolchain in kvprobe tests (no GPU, no nvcc here): a fake `nvcc`
 * that "compiles" by copying a shell script, and that script as the kvprobe binary. All paths are
 * absolute and embedded, so the fakes work for any user (the loopback sshd user too).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KvprobeResult } from '../common/kv/kvprobe-result';

export interface FakeCuda {
  /** Directory holding `nvcc`; put it first on PATH. */
  binDir: string;
  /** Touch to make the fake kvprobe hang after its first progress line (cancel tests). */
  hangFile: string;
  /** The fake kvprobe writes its pid here when it starts measuring. */
  pidFile: string;
  /** Every nvcc invocation's argv, one line each. */
  nvccLog: string;
}

export function fakeResult(overrides: Partial<KvprobeResult> = {}): KvprobeResult {
  return {
    schema: 1,
    implementation: 'native',
    producerVersion: 'kvprobe-fake',
    src: { index: 0, name: 'NVIDIA H100 80GB HBM3', pciBusId: '00000000:19:00.0' },
    dst: { index: 1, name: 'NVIDIA H100 80GB HBM3', pciBusId: '00000000:3B:00.0' },
    peerAccess: true,
    crossProcess: true,
    shape: { layers: 32, kvHeadsPerRank: 8, headDim: 128, dtypeBytes: 2, blockSize: 16, bytesPerBlock: 2097152, piecesPerBlock: 64 },
    blockCounts: [1, 16, 188],
    measurements: [
      { mode: 'gather', blocks: 188, iterations: 50, perBlockUs: { p50: 5.65, p99: 5.75, mean: 5.66 }, gbPerS: 371.5 },
      { mode: 'contiguous', blocks: 188, iterations: 50, perBlockUs: { p50: 5.31, p99: 5.35, mean: 5.31 }, gbPerS: 395 },
    ],
    skipped: [],
    startedAt: '2026-11-26T15:30:00Z',
    durationMs: 1234,
    ...overrides,
  };
}

/** `archs`: what `nvcc --list-gpu-arch` prints (compute_NN lines). */
export async function makeFakeCuda(dir: string, result: KvprobeResult, archs = ['compute_75', 'compute_80', 'compute_90']): Promise<FakeCuda> {
  const binDir = path.join(dir, 'cuda-bin');
  await fs.mkdir(binDir, { recursive: true });
  const resultFile = path.join(dir, 'fake-result.json');
  const hangFile = path.join(dir, 'hang');
  const pidFile = path.join(dir, 'kvprobe.pid');
  const nvccLog = path.join(dir, 'nvcc.log');
  const kvprobe = path.join(dir, 'fake-kvprobe.sh');
  await fs.writeFile(resultFile, JSON.stringify(result));
  await fs.writeFile(
    kvprobe,
    `#!/bin/sh
if [ "$1" = "--check" ]; then echo "ok driver 12040 runtime 12040 gpus 2"; exit 0; fi
echo "$$" > '${pidFile}'
echo "progress 0.0000 gather, 1 block" >&2
if [ -e '${hangFile}' ]; then sleep 300; fi
echo "progress 1.0000 done" >&2
cat '${resultFile}'
`,
    { mode: 0o755 },
  );
  await fs.writeFile(
    path.join(binDir, 'nvcc'),
    `#!/bin/sh
echo "$*" >> '${nvccLog}'
case "$1" in
  --list-gpu-arch) printf '${archs.join('\\n')}\\n'; exit 0 ;;
  --version) echo "Cuda compilation tools, release 12.4, V12.4.131"; exit 0 ;;
esac
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
[ -n "$out" ] || { echo "fake nvcc: no -o" >&2; exit 1; }
cp '${kvprobe}' "$out"
`,
    { mode: 0o755 },
  );
  for (const p of [dir, binDir]) await fs.chmod(p, 0o755);
  for (const p of [resultFile]) await fs.chmod(p, 0o644);
  return { binDir, hangFile, pidFile, nvccLog };
}
