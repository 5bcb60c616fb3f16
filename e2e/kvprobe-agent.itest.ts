/**
 * probe.kv answered by the bundled agent daemon (real processes, fake nvidia-smi, fake nvcc, the
 * real PyTorch fallback from .venv-vllm on CPU tensors): how it picks an implementation, its
 * errors without a GPU or without any way to run kvprobe, progress and cancel.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HANDOFF_VERSION } from '../common/version';
import { KvprobeResult } from '../common/kv/kvprobe-result';
import type { ProbeProgress } from '../common/kv/fabric-probe';
import { spawnAttach, stopAllDaemonsIn, type LocalAttach } from '../agents/daemon/local-agent';
import { kvprobeSourceHash } from '../agents/probe/kvprobe-sources';
import { buildAgentBundle } from '../build/agent-bundle';
import { isAlive } from './harness/procs';
import { waitFor } from './harness/ssh-test-env';
import { fakeResult, makeFakeCuda } from './kvprobe-fakes';
import { VLLM_VENV, vllmVenvSkipReason } from './real-vllm/real-vllm-env';

const here = path.dirname(fileURLToPath(import.meta.url));
const fakeSmi = path.join(here, 'harness', 'fake-nvidia-smi.sh');
const SHAPE = { layers: 2, kvHeadsPerRank: 1, headDim: 8, dtypeBytes: 2, blockSize: 16 };
let root: string;
let bundle: string;
const attaches: LocalAttach[] = [];
const homes: string[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-kvprobe-'));
  bundle = await buildAgentBundle(path.join(root, 'bundle', 'handoff-agent.cjs'));
}, 120_000);

afterEach(async () => {
  for (const a of attaches.splice(0)) a.child.kill('SIGKILL');
  for (const h of homes.splice(0)) await stopAllDaemonsIn(h);
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** PATH of system tools only: no nvidia-smi, nvcc or python with torch sneaks in from this machine. */
function systemPath(...first: string[]): string {
  return [...first, '/usr/local/bin', '/usr/bin', '/bin'].join(':');
}

async function fakeSmiDir(gpus: number): Promise<string> {
  const dir = await fs.mkdtemp(path.join(root, 'smi-'));
  await fs.copyFile(fakeSmi, path.join(dir, 'nvidia-smi'));
  await fs.chmod(path.join(dir, 'nvidia-smi'), 0o755);
  await fs.writeFile(path.join(dir, 'fake-gpu-count'), `${gpus}\n`);
  return dir;
}

async function agent(env: Record<string, string>) {
  const home = await fs.mkdtemp(path.join(root, 'home-'));
  homes.push(home);
  const userHome = await fs.mkdtemp(path.join(root, 'user-'));
  const a = spawnAttach(bundle, home, { env: { HOME: userHome, CUDA_HOME: path.join(root, 'no-cuda'), ...env } });
  attaches.push(a);
  await a.client.hello(HANDOFF_VERSION);
  const progress: ProbeProgress[] = [];
  a.client.onAgentNotification('probe.progress', (p) => progress.push(p));
  return { client: a.client, home, progress };
}

async function probeError(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
  expect(err).not.toBeNull();
  return err!;
}

describe('probe.kv on the agent', () => {
  it('refuses with "no GPU" when the host has no nvidia-smi', async () => {
    const { client } = await agent({ PATH: systemPath() });
    const err = await probeError(client.call('probe.kv', { srcGpu: 0, dstGpu: 1, shape: SHAPE }, { timeoutMs: 60_000 }));
    expect(err.code).toBe('no-gpu');
    expect(err.message).toMatch(/no GPU on this host: nvidia-smi was not found/);
  }, 60_000);

  it('refuses with "no GPU" when nvidia-smi lists none, and names the GPUs that exist when the pair is out of range', async () => {
    const none = await agent({ PATH: systemPath(await fakeSmiDir(0)) });
    const err = await probeError(none.client.call('probe.kv', { srcGpu: 0, dstGpu: 1, shape: SHAPE }, { timeoutMs: 60_000 }));
    expect(err.code).toBe('no-gpu');
    expect(err.message).toMatch(/lists none/);

    const two = await agent({ PATH: systemPath(await fakeSmiDir(2)) });
    const range = await probeError(two.client.call('probe.kv', { srcGpu: 0, dstGpu: 5, shape: SHAPE }, { timeoutMs: 60_000 }));
    expect(range.code).toBe('gpu-missing');
    expect(range.message).toContain('GPU 5 does not exist on this host; it has 2 GPUs (0–1)');
  }, 90_000);

  it('says that neither nvcc nor a Python with torch is there when it has no way to run kvprobe', async () => {
    const { client } = await agent({ PATH: systemPath(await fakeSmiDir(2)) });
    const err = await probeError(client.call('probe.kv', { srcGpu: 0, dstGpu: 1, shape: SHAPE }, { timeoutMs: 120_000 }));
    expect(err.code).toBe('kvprobe-unavailable');
    expect(err.message).toContain('no nvcc to build kvprobe');
    expect(err.message).toContain('no Python environment with torch was found');
    expect(err.message).toMatch(/Install the CUDA toolkit \(nvcc\) or a vLLM environment/);
  }, 120_000);

  it('with implementation native and no nvcc, refuses instead of falling back to torch', async () => {
    const { client } = await agent({ PATH: systemPath(await fakeSmiDir(2)) });
    const err = await probeError(client.call('probe.kv', { srcGpu: 0, dstGpu: 1, shape: SHAPE, implementation: 'native' }, { timeoutMs: 60_000 }));
    expect(err.code).toBe('kvprobe-unavailable');
    expect(err.message).toMatch(/No native kvprobe can run on this host/);
  }, 60_000);

  it('builds kvprobe with the host nvcc into a directory named by the source hash, reuses it next time, and passes over a prebuilt binary the driver cannot run', async () => {
    const prebuiltDir = path.join(path.dirname(bundle), 'kvprobe-prebuilt');
    await fs.mkdir(prebuiltDir, { recursive: true });
    await fs.writeFile(path.join(prebuiltDir, 'kvprobe'), '#!/bin/sh\necho "kvprobe: CUDA check failed: CUDA driver version is insufficient for CUDA runtime version" >&2\nexit 3\n', { mode: 0o755 });
    try {
      const cuda = await makeFakeCuda(await fs.mkdtemp(path.join(root, 'cuda-')), fakeResult());
      const { client, home, progress } = await agent({ PATH: systemPath(cuda.binDir, await fakeSmiDir(2)) });
      const first = await client.call('probe.kv', { probeId: 'p1', srcGpu: 0, dstGpu: 1, shape: SHAPE }, { timeoutMs: 120_000 });
      const hash = kvprobeSourceHash(await fs.readFile(path.join(here, '..', 'native', 'kvprobe', 'kvprobe.cu'), 'utf8'));
      expect(first.provenance.via).toBe('built');
      expect(first.provenance.path).toBe(path.join(home, 'kvprobe', hash, 'kvprobe'));
      expect(first.provenance.notes.join('\n')).toContain('the prebuilt kvprobe does not run with this host\'s driver: kvprobe: CUDA check failed: CUDA driver version is insufficient');
      expect(KvprobeResult.parse(first.result).producerVersion).toBe('kvprobe-fake');
      // The fake nvcc knows compute_80 and compute_90 only: sm_100 is dropped, PTX is for the newest kept.
      const build = JSON.parse(await fs.readFile(path.join(home, 'kvprobe', hash, 'build.json'), 'utf8')) as { archs: string; ptx: string; sourceHash: string };
      expect(build).toMatchObject({ archs: 'sm_80 sm_90', ptx: 'compute_90', sourceHash: hash });
      const compile = (await fs.readFile(cuda.nvccLog, 'utf8')).split('\n').find((l) => l.includes(' -o '))!;
      expect(compile).toContain(`-DKVPROBE_SOURCE_HASH="kvprobe-${hash}"`);
      expect(compile).not.toContain('sm_100');
      expect(progress.filter((p) => p.probeId === 'p1').map((p) => p.phase)).toEqual(expect.arrayContaining(['locate', 'build', 'measure']));
      expect(progress.some((p) => p.phase === 'measure' && p.message === 'gather, 1 block' && p.fraction === 0)).toBe(true);

      const second = await client.call('probe.kv', { srcGpu: 0, dstGpu: 1, shape: SHAPE }, { timeoutMs: 60_000 });
      expect(second.provenance.via).toBe('cached');
      const compiles = (await fs.readFile(cuda.nvccLog, 'utf8')).split('\n').filter((l) => l.includes(' -o '));
      expect(compiles).toHaveLength(1);
    } finally {
      await fs.rm(prebuiltDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('uses the prebuilt binary beside the bundle when it runs with the driver, without building', async () => {
    const prebuiltDir = path.join(path.dirname(bundle), 'kvprobe-prebuilt');
    const cudaDir = await fs.mkdtemp(path.join(root, 'cuda-'));
    const cuda = await makeFakeCuda(cudaDir, fakeResult({ producerVersion: 'kvprobe-prebuilt-test' }));
    await fs.mkdir(prebuiltDir, { recursive: true });
    await fs.copyFile(path.join(cudaDir, 'fake-kvprobe.sh'), path.join(prebuiltDir, 'kvprobe'));
    await fs.chmod(path.join(prebuiltDir, 'kvprobe'), 0o755);
    try {
      const { client } = await agent({ PATH: systemPath(cuda.binDir, await fakeSmiDir(2)) });
      const r = await client.call('probe.kv', { srcGpu: 0, dstGpu: 1, shape: SHAPE }, { timeoutMs: 60_000 });
      expect(r.provenance).toEqual({ via: 'prebuilt', path: path.join(prebuiltDir, 'kvprobe'), notes: [] });
      expect(r.result.producerVersion).toBe('kvprobe-prebuilt-test');
      await expect(fs.access(cuda.nvccLog)).rejects.toThrow();
    } finally {
      await fs.rm(prebuiltDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('probe.cancel stops a running probe and its process', async () => {
    const cuda = await makeFakeCuda(await fs.mkdtemp(path.join(root, 'cuda-')), fakeResult());
    await fs.writeFile(cuda.hangFile, '');
    const { client, progress } = await agent({ PATH: systemPath(cuda.binDir, await fakeSmiDir(2)) });
    const call = probeError(client.call('probe.kv', { probeId: 'hang', srcGpu: 1, dstGpu: 0, shape: SHAPE }, { timeoutMs: 120_000 }));
    await waitFor(() => progress.some((p) => p.probeId === 'hang' && p.phase === 'measure' && p.message === 'gather, 1 block'), 'the probe to start measuring', 60_000);
    const pid = Number(await fs.readFile(cuda.pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(true);
    expect(await client.call('probe.cancel', { probeId: 'hang' })).toEqual({ cancelled: true });
    const err = await call;
    expect(err.code).toBe('cancelled');
    await waitFor(() => !isAlive(pid), 'the kvprobe process to exit', 10_000);
    expect(await client.call('probe.cancel', { probeId: 'hang' })).toEqual({ cancelled: false });
  }, 120_000);

  it('rejects malformed params with a clear error before touching the host', async () => {
    const { client } = await agent({ PATH: systemPath() });
    const err = await probeError(client.request('probe.kv', { srcGpu: -1, dstGpu: 1, shape: { ...SHAPE, layers: 0 } }));
    expect(err.message).toMatch(/srcGpu|layers/);
  }, 60_000);

  const torchSkip = vllmVenvSkipReason();
  if (torchSkip) console.warn(`skipping the PyTorch fallback agent test: ${torchSkip}`);
  it.skipIf(torchSkip !== null)('falls back to the PyTorch probe when there is no nvcc, running it on CPU tensors when told to (HANDOFF_KVPROBE_DEVICE=cpu)', async () => {
    const { client, progress } = await agent({ PATH: systemPath(await fakeSmiDir(2)), HANDOFF_PYTHONS: VLLM_VENV, HANDOFF_KVPROBE_DEVICE: 'cpu' });
    const r = await client.call('probe.kv', { probeId: 't1', srcGpu: 0, dstGpu: 1, shape: SHAPE, blockCounts: [1, 3], iterations: 3 }, { timeoutMs: 240_000 });
    expect(r.provenance.via).toBe('torch');
    expect(r.provenance.path).toContain('.venv-vllm');
    expect(r.provenance.notes.join('\n')).toContain('no nvcc to build kvprobe');
    expect(r.result.implementation).toBe('cpu');
    expect(r.result.shape).toEqual({ ...SHAPE, bytesPerBlock: 2 * 2 * 16 * 1 * 8 * 2, piecesPerBlock: 4 });
    expect(r.result.blockCounts).toEqual([1, 3]);
    expect(r.result.measurements.map((m) => `${m.mode}/${m.blocks}`)).toEqual([
      'per-piece/1', 'per-piece/3', 'gather/1', 'gather/3', 'contiguous/1', 'contiguous/3', 'host-staged/1', 'host-staged/3',
    ]);
    expect(progress.filter((p) => p.phase === 'measure' && p.probeId === 't1').length).toBeGreaterThanOrEqual(8);
  }, 240_000);
});
