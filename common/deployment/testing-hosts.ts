import type { GpuInfo, HostInfo, PythonEnv } from '../host';

/** Host facts for planner tests and docs: what host discovery reports for typical machines. */

export const VENV_PYTHON = '/home/alice/venvs/vllm/bin/python';
export const AGENT_COMMAND = ['node', '/home/alice/.handoff/agent/current/handoff-agent.cjs'];
export const SEED_MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';

export function h100(index: number, memoryUsedMiB = 0): GpuInfo {
  return {
    index,
    name: 'NVIDIA H100 80GB HBM3',
    uuid: `GPU-00000000-0000-0000-0000-00000000000${index}`,
    memoryTotalMiB: 81559,
    memoryUsedMiB,
    utilizationPct: 0,
    driverVersion: '550.54.15',
  };
}

export function vllmPython(packages: PythonEnv['packages'] = { vllm: '0.11.0', nixl: '0.7.1' }, path = VENV_PYTHON): PythonEnv {
  return { path, version: '3.12.3', packages };
}

export function hostFacts(over: Partial<HostInfo> & { gpuCount?: number } = {}): HostInfo {
  const { gpuCount = 4, ...rest } = over;
  return {
    hostname: 'gpu-box',
    os: { platform: 'linux', release: '6.8.0', prettyName: 'Ubuntu 24.04 LTS' },
    kernel: '6.8.0',
    arch: 'x64',
    glibc: '2.39',
    cpus: { count: 64, model: 'Intel Xeon Platinum 8480+' },
    memoryBytes: 2 * 1024 ** 4,
    diskFreeBytesHome: 500 * 1024 ** 3,
    nvidiaSmi: { found: gpuCount > 0, version: gpuCount > 0 ? '550.54.15' : null },
    gpus: Array.from({ length: gpuCount }, (_, i) => h100(i)),
    topology: null,
    cudaVersion: gpuCount > 0 ? '12.4' : null,
    driverVersion: gpuCount > 0 ? '550.54.15' : null,
    pythons: [vllmPython()],
    models: [{ name: SEED_MODEL, path: `/home/alice/.cache/huggingface/hub/models--deepseek-ai--DeepSeek-R1-Distill-Llama-8B`, source: 'hf-cache' }],
    ucx: { found: false, version: null },
    docker: { found: false, version: null },
    nvcc: { found: false, version: null },
    agentVersion: '0.1.0',
    collectedAt: '2026-01-01T00:00:00.000Z',
    ...rest,
  };
}
