import type { HostInfo, HostStatus } from '../common/host';
import type { Task } from '../common/task';

/** Shapes for renderer unit tests only; the product shows nothing but what the controller sends. */
export function sampleInfo(overrides: Partial<HostInfo> = {}): HostInfo {
  return {
    hostname: 'gpu1',
    os: { platform: 'linux', release: '6.1.0', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    kernel: '6.1.0-28-amd64',
    arch: 'x64',
    glibc: '2.36',
    cpus: { count: 64, model: 'AMD EPYC 9354' },
    memoryBytes: 512 * 1024 ** 3,
    diskFreeBytesHome: 900 * 1024 ** 3,
    nvidiaSmi: { found: true, version: '550.54.15' },
    gpus: [0, 1].map((index) => ({
      index,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: `GPU-${index}`,
      memoryTotalMiB: 81559,
      memoryUsedMiB: 1024,
      utilizationPct: index * 50,
      driverVersion: '550.54.15',
    })),
    topology: {
      labels: ['GPU0', 'GPU1', 'NIC0'],
      matrix: [
        ['X', 'NV18', 'PIX'],
        ['NV18', 'X', 'SYS'],
        ['PIX', 'SYS', 'X'],
      ],
      cpuAffinity: { GPU0: '0-31', GPU1: '32-63' },
      numaAffinity: { GPU0: '0', GPU1: '1' },
      nics: { NIC0: 'mlx5_0' },
      raw: '',
    },
    cudaVersion: '12.4',
    driverVersion: '550.54.15',
    pythons: [{ path: '/usr/bin/python3', version: '3.11.2', packages: { vllm: '0.11.0', nixl: null, torch: '2.8.0', genai_perf: null, aiperf: '0.13.0' } }],
    ucx: { found: true, version: '1.18.0' },
    docker: { found: false, version: null },
    nvcc: { found: false, version: null },
    agentVersion: '0.1.0',
    collectedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export function sampleHost(name: string, overrides: Partial<HostStatus> = {}): HostStatus {
  return {
    config: { kind: 'ssh', name, target: { user: 'u', host: '127.0.0.1', port: 2222 }, addedAt: '2026-01-01T00:00:00Z' },
    state: 'connected',
    info: null,
    checkedAt: null,
    ...overrides,
  };
}

export function sampleTask(overrides: Partial<Task> = {}): Task {
  return {
    id: 't1',
    kind: 'hosts.check',
    title: 'Check gpu1',
    state: 'running',
    steps: [
      { id: 'tcp', label: 'TCP', state: 'done', startedAt: 0, endedAt: 12 },
      { id: 'hostkey', label: 'Host key', state: 'done' },
      { id: 'auth', label: 'Authentication', state: 'running', detail: 'publickey', progress: 0.5 },
      { id: 'install', label: 'Agent install', state: 'pending' },
      { id: 'discover', label: 'Discovery', state: 'pending' },
    ],
    createdAt: 1,
    ...overrides,
  };
}
