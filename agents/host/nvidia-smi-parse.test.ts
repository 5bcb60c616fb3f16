import { describe, expect, it } from 'vitest';
import { parseGpuQueryCsv, parseNvidiaSmiHeader, parseSmiNumber, parseTopoMatrix } from './nvidia-smi-parse';

const ESC = String.fromCharCode(27);

describe('parseGpuQueryCsv', () => {
  it('reads one GPU per line with numbers in MiB and percent', () => {
    const gpus = parseGpuQueryCsv('0, NVIDIA H100 80GB HBM3, GPU-aaa, 81559, 12, 3, 550.54.15\n1, NVIDIA H100 80GB HBM3, GPU-bbb, 81559, 0, 0, 550.54.15\n');
    expect(gpus).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-aaa', memoryTotalMiB: 81559, memoryUsedMiB: 12, utilizationPct: 3, driverVersion: '550.54.15' },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-bbb', memoryTotalMiB: 81559, memoryUsedMiB: 0, utilizationPct: 0, driverVersion: '550.54.15' },
    ]);
  });

  it('turns [N/A] and [Not Supported] into null utilisation and zero memory instead of failing', () => {
    const [gpu] = parseGpuQueryCsv('0, NVIDIA GH200 480GB, GPU-ccc, [N/A], [N/A], [Not Supported], 560.35.03\r\n');
    expect(gpu).toMatchObject({ index: 0, memoryTotalMiB: 0, memoryUsedMiB: 0, utilizationPct: null, driverVersion: '560.35.03' });
  });

  it('keeps a GPU name that contains commas and tolerates units left in the numbers', () => {
    const [gpu] = parseGpuQueryCsv('2, Weird, Name, GPU-ddd, 1000 MiB, 5 MiB, 7 %, 535.104.05');
    expect(gpu).toMatchObject({ index: 2, name: 'Weird, Name', uuid: 'GPU-ddd', memoryTotalMiB: 1000, memoryUsedMiB: 5, utilizationPct: 7 });
  });

  it('skips driver banners, blank lines and truncated rows, and sorts by index', () => {
    const text = [
      '\uFEFFNo devices were found',
      '',
      '3, NVIDIA H100, GPU-3, 81559, 0, 0, 550.54.15',
      '1, NVIDIA H100, GPU-1',
      'x, NVIDIA H100, GPU-x, 81559, 0, 0, 550.54.15',
      '0, NVIDIA H100, GPU-0, 81559, 0, 0, 550.54.15',
    ].join('\n');
    expect(parseGpuQueryCsv(text).map((g) => g.index)).toEqual([0, 3]);
  });

  it('returns no GPUs for an empty or garbage answer', () => {
    expect(parseGpuQueryCsv('')).toEqual([]);
    expect(parseGpuQueryCsv("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")).toEqual([]);
  });
});

describe('parseSmiNumber', () => {
  it('reads plain numbers and rejects nvidia-smi placeholders', () => {
    expect(parseSmiNumber(' 81559 ')).toBe(81559);
    expect(parseSmiNumber('[N/A]')).toBeNull();
    expect(parseSmiNumber('N/A')).toBeNull();
    expect(parseSmiNumber('[Unknown Error]')).toBeNull();
    expect(parseSmiNumber('')).toBeNull();
    expect(parseSmiNumber(undefined)).toBeNull();
  });
});

describe('parseNvidiaSmiHeader', () => {
  it('finds the smi, driver and CUDA versions in the banner', () => {
    const banner = `Thu Jan  9 10:00:00 2025
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+`;
    expect(parseNvidiaSmiHeader(banner)).toEqual({ smiVersion: '550.54.15', driverVersion: '550.54.15', cudaVersion: '12.4' });
  });

  it('reports CUDA Version: N/A and a missing banner as null', () => {
    expect(parseNvidiaSmiHeader('| NVIDIA-SMI 535.86.10   Driver Version: 535.86.10   CUDA Version: N/A |').cudaVersion).toBeNull();
    expect(parseNvidiaSmiHeader('garbage')).toEqual({ smiVersion: null, driverVersion: null, cudaVersion: null });
  });
});

describe('parseTopoMatrix', () => {
  const eightGpu = [
    `\t${ESC}[4mGPU0\tGPU1\tNIC0\tNIC1\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID${ESC}[0m`,
    'GPU0\t X \tNV18\tPXB\tSYS\t0-55,112-167\t0\t\tN/A',
    'GPU1\tNV18\t X \tSYS\tPXB\t56-111,168-223\t1\t\tN/A',
    'NIC0\tPXB\tSYS\t X \tSYS',
    'NIC1\tSYS\tPXB\tSYS\t X ',
    '',
    'Legend:',
    '',
    '  X    = Self',
    '  NV#  = Connection traversing a bonded set of # NVLinks',
    '',
    'NIC Legend:',
    '',
    '  NIC0: mlx5_0',
    '  NIC1: mlx5_1',
    '',
  ].join('\n');

  it('reads the link matrix, CPU/NUMA affinity and the NIC legend despite escape codes in the header', () => {
    const t = parseTopoMatrix(eightGpu)!;
    expect(t.labels).toEqual(['GPU0', 'GPU1', 'NIC0', 'NIC1']);
    expect(t.matrix).toEqual([
      ['X', 'NV18', 'PXB', 'SYS'],
      ['NV18', 'X', 'SYS', 'PXB'],
      ['PXB', 'SYS', 'X', 'SYS'],
      ['SYS', 'PXB', 'SYS', 'X'],
    ]);
    expect(t.cpuAffinity).toEqual({ GPU0: '0-55,112-167', GPU1: '56-111,168-223' });
    expect(t.numaAffinity).toEqual({ GPU0: '0', GPU1: '1' });
    expect(t.nics).toEqual({ NIC0: 'mlx5_0', NIC1: 'mlx5_1' });
    expect(t.raw).toBe(eightGpu.replaceAll(`${ESC}[4m`, '').replaceAll(`${ESC}[0m`, ''));
  });

  it('reads output whose tabs were turned into spaces', () => {
    const text = [
      '        GPU0    GPU1    NIC0    CPU Affinity    NUMA Affinity   GPU NUMA ID',
      'GPU0     X      NV18    PXB     0-47    0               N/A',
      'GPU1    NV18     X      PXB     0-47    0               N/A',
      'NIC0    PXB     PXB      X',
      '',
      'NIC Legend:',
      '  NIC0: mlx5_0',
    ].join('\n');
    const t = parseTopoMatrix(text)!;
    expect(t.labels).toEqual(['GPU0', 'GPU1', 'NIC0']);
    expect(t.matrix[1]).toEqual(['NV18', 'X', 'PXB']);
    expect(t.cpuAffinity.GPU1).toBe('0-47');
    expect(t.nics).toEqual({ NIC0: 'mlx5_0' });
  });

  it('reads the older layout with mlx5 devices as columns and no NIC legend', () => {
    const text = '\tGPU0\tGPU1\tmlx5_0\tCPU Affinity\nGPU0\t X \tNV2\tSYS\t0-11\nGPU1\tNV2\t X \tSYS\t0-11\nmlx5_0\tSYS\tSYS\t X \t\n\nLegend:\n';
    const t = parseTopoMatrix(text)!;
    expect(t.labels).toEqual(['GPU0', 'GPU1', 'mlx5_0']);
    expect(t.matrix[2]).toEqual(['SYS', 'SYS', 'X']);
    expect(t.cpuAffinity).toEqual({ GPU0: '0-11', GPU1: '0-11' });
    expect(t.nics).toEqual({});
  });

  it('reads a single GPU without NICs, and a header that lost its leading tab', () => {
    expect(parseTopoMatrix('\tGPU0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\nGPU0\t X \t0-15\t0\t\tN/A\n')).toMatchObject({ labels: ['GPU0'], matrix: [['X']], cpuAffinity: { GPU0: '0-15' } });
    expect(parseTopoMatrix('GPU0\tGPU1\tCPU Affinity\nGPU0\t X \tPHB\t0-7\nGPU1\tPHB\t X \t0-7\n')?.matrix).toEqual([
      ['X', 'PHB'],
      ['PHB', 'X'],
    ]);
  });

  it('reads the single-GPU layout of a real H100 host (driver 580), escape codes and empty NUMA ID cell included', () => {
    const text = `\t${ESC}[4mGPU0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID${ESC}[0m\nGPU0\t X \t0-15\t0\t\tN/A\n\nLegend:\n\n  X    = Self\n`;
    const t = parseTopoMatrix(text)!;
    expect(t).toMatchObject({ labels: ['GPU0'], matrix: [['X']], cpuAffinity: { GPU0: '0-15' }, numaAffinity: { GPU0: '0' }, nics: {} });
    expect(t.raw).not.toContain(ESC);
  });

  it('pads a row that is missing cells instead of shifting the matrix', () => {
    const t = parseTopoMatrix('\tGPU0\tGPU1\nGPU0\t X \nGPU1\tNV4\t X \n')!;
    expect(t.matrix).toEqual([
      ['X', ''],
      ['NV4', 'X'],
    ]);
  });

  it('returns null when there is no matrix', () => {
    expect(parseTopoMatrix('')).toBeNull();
    expect(parseTopoMatrix("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")).toBeNull();
    expect(parseTopoMatrix('No devices were found')).toBeNull();
  });
});
