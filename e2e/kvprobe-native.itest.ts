/**
 * native/ without a GPU: the build script's behaviour without (or with an unsuitable) nvcc, its
 * source hash, and the PyTorch fallback's arithmetic on CPU tensors (bytes per block, pieces, block
 * counts, percentiles, GB/s) checked against values computed here, plus the results committed from
 * real H100s against the schema. GPU runs themselves are in docs/kvprobe.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvprobeResult } from '../common/kv/kvprobe-result';
import { defaultBlockCounts, kvprobeShape } from '../common/kv/fabric-probe';
import { percentileOfSorted } from '../common/metrics/stats';
import { kvprobeSourceHash } from '../agents/probe/kvprobe-sources';
import { VLLM_PYTHON, vllmVenvSkipReason } from './real-vllm/real-vllm-env';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(repo, 'native', 'build-kvprobe.sh');
const TORCH = path.join(repo, 'native', 'kvprobe_torch.py');
let root: string;

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'hoa-native-'));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const bare = { PATH: '/usr/bin:/bin', HOME: os.tmpdir() };

describe('native/build-kvprobe.sh', () => {
  const hasSystemNvcc = fs.existsSync('/usr/local/cuda/bin/nvcc');
  it.skipIf(hasSystemNvcc)('without nvcc exits 3 with a message naming where it looked and the PyTorch fallback', async () => {
    const r = await run('bash', [BUILD, '--out', path.join(root, 'none')], bare);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('nvcc not found (looked on PATH and in /usr/local/cuda/bin)');
    expect(r.stderr).toContain('kvprobe_torch.py');
    expect(fs.existsSync(path.join(root, 'none', 'kvprobe'))).toBe(false);
  });

  it('prints the source hash the agent uses for its build cache (sha256 of kvprobe.cu, 16 hex digits)', async () => {
    const r = await run('bash', [BUILD, '--hash'], bare);
    expect(r.code).toBe(0);
    const cu = await fsp.readFile(path.join(repo, 'native', 'kvprobe', 'kvprobe.cu'), 'utf8');
    expect(r.stdout.trim()).toBe(kvprobeSourceHash(cu));
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses an nvcc that supports none of sm_80, sm_90 and sm_100 (exit 4) and an unknown argument (exit 2)', async () => {
    const nvcc = path.join(root, 'old-nvcc');
    await fsp.writeFile(nvcc, '#!/bin/sh\n[ "$1" = "--list-gpu-arch" ] && printf "compute_50\\ncompute_60\\ncompute_70\\n"\nexit 0\n', { mode: 0o755 });
    const old = await run('bash', [BUILD, '--nvcc', nvcc, '--out', path.join(root, 'old')], bare);
    expect(old.code).toBe(4);
    expect(old.stderr).toContain('supports none of sm_80, sm_90, sm_100; use CUDA 11.8 or newer');
    const bad = await run('bash', [BUILD, '--frobnicate'], bare);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown argument --frobnicate');
  });
});

describe('committed H100 results', () => {
  it('match the kvprobe result schema, their block shapes, and the source hash of the native build', async () => {
    const dir = path.join(repo, 'native', 'results');
    const files = (await fsp.readdir(dir)).filter((f) => f.startsWith('h100-nvlink-') && f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const cu = await fsp.readFile(path.join(repo, 'native', 'kvprobe', 'kvprobe.cu'), 'utf8');
    for (const f of files) {
      const r = KvprobeResult.parse(JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8')));
      const { bytesPerBlock: _b, piecesPerBlock: _p, ...input } = r.shape;
      expect(r.shape).toEqual(kvprobeShape(input));
      expect(r.blockCounts).toEqual([1, 16, 188]);
      if (r.implementation === 'native') expect(r.producerVersion).toBe(`kvprobe-${kvprobeSourceHash(cu)}`);
      if (f.includes('llama8b')) expect(r.shape.bytesPerBlock).toBe(2 * 1024 * 1024);
    }
  });
});

const torchSkip = vllmVenvSkipReason();
if (torchSkip) console.warn(`skipping kvprobe_torch.py tests: ${torchSkip}`);

describe.skipIf(torchSkip !== null)('native/kvprobe_torch.py on CPU tensors', () => {
  it('reports the shape, block counts, pieces, percentiles and GB/s that its raw samples imply', async () => {
    const args = ['--device', 'cpu', '--layers', '3', '--kv-heads', '2', '--head-dim', '8', '--dtype-bytes', '2', '--block-size', '16', '--blocks', '4,1', '--iterations', '7', '--warmup', '1', '--raw'];
    const r = await run(VLLM_PYTHON, [TORCH, ...args], { ...bare, PATH: `${path.dirname(VLLM_PYTHON)}:/usr/bin:/bin` }, 180_000);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.code).toBe(0);
    const result = KvprobeResult.parse(JSON.parse(r.stdout));
    expect(result.implementation).toBe('cpu');
    expect(result.producerVersion).toMatch(/^torch-\d/);
    expect(result.crossProcess).toBe(false);
    // 2 (K and V) × 3 layers × 16 tokens × 2 heads × 8 dims × 2 bytes.
    expect(result.shape).toEqual({ layers: 3, kvHeadsPerRank: 2, headDim: 8, dtypeBytes: 2, blockSize: 16, bytesPerBlock: 3072, piecesPerBlock: 6 });
    expect(result.blockCounts).toEqual([1, 4]);
    expect(result.measurements).toHaveLength(8);
    for (const m of result.measurements) {
      expect(m.iterations).toBe(7);
      const samples = m.samplesUs!;
      expect(samples).toHaveLength(7);
      const perBlock = samples.map((s) => s / m.blocks).sort((a, b) => a - b);
      expect(m.perBlockUs.p50).toBeCloseTo(percentileOfSorted(perBlock, 50), 9);
      expect(m.perBlockUs.p99).toBeCloseTo(percentileOfSorted(perBlock, 99), 9);
      expect(m.perBlockUs.mean).toBeCloseTo(perBlock.reduce((a, b) => a + b, 0) / perBlock.length, 9);
      const medianUs = percentileOfSorted([...samples].sort((a, b) => a - b), 50);
      expect(m.gbPerS).toBeCloseTo((m.blocks * 3072) / (medianUs * 1e3), 9);
    }
    progressLinesAreWellFormed(r.stderr, 8);
  }, 180_000);

  it('defaults to 1 block, 16 blocks and a 3,000-token prompt, and refuses an unknown mode with exit 2', async () => {
    const env = { ...bare, PATH: `${path.dirname(VLLM_PYTHON)}:/usr/bin:/bin` };
    const r = await run(VLLM_PYTHON, [TORCH, '--device', 'cpu', '--layers', '1', '--kv-heads', '1', '--head-dim', '4', '--dtype-bytes', '4', '--block-size', '32', '--modes', 'contiguous', '--iterations', '1', '--warmup', '0'], env, 180_000);
    expect(r.code).toBe(0);
    const result = KvprobeResult.parse(JSON.parse(r.stdout));
    expect(result.blockCounts).toEqual([1, 16, 94]);
    expect(result.blockCounts).toEqual(defaultBlockCounts(32));
    expect(result.measurements.map((m) => m.blocks)).toEqual([1, 16, 94]);
    expect(result.shape.bytesPerBlock).toBe(2 * 1 * 32 * 1 * 4 * 4);

    const bad = await run(VLLM_PYTHON, [TORCH, '--device', 'cpu', '--layers', '1', '--kv-heads', '1', '--head-dim', '4', '--dtype-bytes', '2', '--block-size', '16', '--modes', 'teleport'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown mode(s) ['teleport']");
  }, 180_000);
});

function progressLinesAreWellFormed(stderr: string, measurements: number): void {
  const lines = stderr.split('\n').filter((l) => l.startsWith('progress '));
  expect(lines).toHaveLength(measurements + 1);
  expect(lines.at(-1)).toBe('progress 1.0000 done');
}
