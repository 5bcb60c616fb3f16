import { describe, expect, it } from 'vitest';
import { classifyLink, fabricVerdict, linkFromCell } from './fabric-link';
import { defaultBlockCounts, fabricKey, FabricProbeParams, kvprobeShape } from './fabric-probe';
import type { KvprobeResult } from './kvprobe-result';
import type { GpuTopology } from '../host';

const topo: GpuTopology = {
  labels: ['GPU0', 'GPU1', 'GPU2', 'NIC0'],
  matrix: [
    ['X', 'NV18', 'SYS', 'PIX'],
    ['NV18', 'X', 'PHB', 'SYS'],
    ['SYS', 'PHB', 'X', 'SYS'],
    ['PIX', 'SYS', 'SYS', 'X'],
  ],
  cpuAffinity: {},
  numaAffinity: {},
  nics: {},
  raw: '',
};

function result(measurements: KvprobeResult['measurements'], skipped: KvprobeResult['skipped'] = []): KvprobeResult {
  return {
    schema: 1, implementation: 'native', producerVersion: 'kvprobe-test',
    src: { index: 0, name: 'H100', pciBusId: null }, dst: { index: 1, name: 'H100', pciBusId: null },
    peerAccess: skipped.length === 0, crossProcess: true,
    shape: kvprobeShape({ layers: 32, kvHeadsPerRank: 8, headDim: 128, dtypeBytes: 2, blockSize: 16 }),
    blockCounts: [1, 16, 188], measurements, skipped, startedAt: '2026-11-26T00:00:00Z', durationMs: 1,
  };
}
const m = (mode: 'gather' | 'contiguous' | 'per-piece', blocks: number, gbPerS: number) => ({ mode, blocks, iterations: 5, perBlockUs: { p50: 2097152 / (gbPerS * 1e3), p99: 1, mean: 1 }, gbPerS });

describe('fabric link classes', () => {
  it('reads the GPU pair from nvidia-smi topo -m and expects ~80% of 25 GB/s per NVLink', () => {
    expect(classifyLink(topo, 0, 1)).toMatchObject({ topo: 'NV18', kind: 'nvlink', expectedGbPerS: 360 });
    expect(linkFromCell('NV12')).toMatchObject({ kind: 'nvlink', expectedGbPerS: 240 });
    expect(classifyLink(topo, 1, 2)).toMatchObject({ topo: 'PHB', kind: 'pcie-host-bridge' });
    expect(classifyLink(topo, 0, 2)).toMatchObject({ topo: 'SYS', kind: 'cross-socket' });
    expect(linkFromCell('PXB').kind).toBe('pcie-switch');
  });

  it('says unknown for a missing matrix, a GPU not in it, or an unfamiliar cell, and same-gpu for one GPU', () => {
    expect(classifyLink(null, 0, 1)).toMatchObject({ topo: null, kind: 'unknown', expectedGbPerS: null });
    expect(classifyLink(topo, 0, 7)).toMatchObject({ kind: 'unknown' });
    expect(linkFromCell('C2C').description).toContain('Unrecognised');
    expect(classifyLink(topo, 1, 1).kind).toBe('same-gpu');
  });
});

describe('fabric verdict', () => {
  const nv18 = linkFromCell('NV18');
  it('is ok when gather at the largest block count reaches half the expected rate, and names the ratio', () => {
    const v = fabricVerdict(nv18, result([m('gather', 16, 10), m('gather', 188, 371.5), m('contiguous', 188, 395)]));
    expect(v.level).toBe('ok');
    expect(v.bestGbPerS).toBe(371.5);
    expect(v.message).toContain('103% of the ~360 GB/s expected on NV18');
  });

  it('is slow under half the expected rate, or when gather could not run at all', () => {
    expect(fabricVerdict(nv18, result([m('gather', 188, 24)])).level).toBe('slow');
    const skipped = fabricVerdict(nv18, result([m('per-piece', 188, 12)], [{ mode: 'gather', reason: 'no peer access' }]));
    expect(skipped.level).toBe('slow');
    expect(skipped.message).toContain('no peer access');
    expect(skipped.bestGbPerS).toBe(12);
  });

  it('is unknown when the link has no expected figure', () => {
    expect(fabricVerdict(linkFromCell(null), result([m('gather', 188, 300)])).level).toBe('unknown');
  });
});

describe('fabric probe shapes and params', () => {
  it('computes bytes and pieces per block the vLLM way (2 MiB, 64 pieces for Llama-3.1-8B at block 16)', () => {
    expect(kvprobeShape({ layers: 32, kvHeadsPerRank: 8, headDim: 128, dtypeBytes: 2, blockSize: 16 })).toMatchObject({ bytesPerBlock: 2 * 1024 * 1024, piecesPerBlock: 64 });
    expect(defaultBlockCounts(16)).toEqual([1, 16, 188]);
    expect(defaultBlockCounts(3000)).toEqual([1, 16]);
    expect(fabricKey(0, 1, { layers: 32, kvHeadsPerRank: 8, headDim: 128, dtypeBytes: 2, blockSize: 16 })).toBe('0->1:32x8x128x2b/bs16');
  });

  it('wants exactly one of model and shape', () => {
    const shape = { layers: 1, kvHeadsPerRank: 1, headDim: 8, dtypeBytes: 2, blockSize: 16 };
    expect(FabricProbeParams.safeParse({ host: 'h', srcGpu: 0, dstGpu: 1, shape }).success).toBe(true);
    expect(FabricProbeParams.safeParse({ host: 'h', srcGpu: 0, dstGpu: 1, model: 'x' }).success).toBe(true);
    expect(FabricProbeParams.safeParse({ host: 'h', srcGpu: 0, dstGpu: 1 }).success).toBe(false);
    expect(FabricProbeParams.safeParse({ host: 'h', srcGpu: 0, dstGpu: 1, model: 'x', shape }).success).toBe(false);
    expect(FabricProbeParams.safeParse({ host: 'h', srcGpu: 0, dstGpu: 1, shape: { ...shape, dtypeBytes: 0 } }).success).toBe(false);
  });
});
