import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkFromCell } from './fabric-link';
import { KvprobeResult } from './kvprobe-result';
import { crossHostNote, expectationRow, fabricWarnings, LINK_EXPECTATIONS, LINK_EXPECTATIONS_SOURCE, largestCountMeasurement } from './link-expectations';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'kvprobe');
const load = (name: string): KvprobeResult => KvprobeResult.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')));
const h100 = load('h100-nvlink-llama8b-tp1.json');

/** The same result with every figure of one mode scaled (slower when factor < 1). */
function scaled(r: KvprobeResult, mode: string, factor: number): KvprobeResult {
  return {
    ...r,
    measurements: r.measurements.map((m) =>
      m.mode === mode ? { ...m, gbPerS: m.gbPerS * factor, perBlockUs: { p50: m.perBlockUs.p50 / factor, p99: m.perBlockUs.p99 / factor, mean: m.perBlockUs.mean / factor } } : m,
    ),
  };
}

describe('link expectations', () => {
  it('lists every nvidia-smi topo link class with the figure the controller verdict expects, and states its source', () => {
    expect(LINK_EXPECTATIONS.map((r) => r.code)).toEqual(['NV#', 'PIX', 'PXB', 'PHB', 'NODE', 'SYS']);
    for (const r of LINK_EXPECTATIONS.slice(1)) expect(r.expectedGbPerS).toBe(linkFromCell(r.code).expectedGbPerS);
    expect(LINK_EXPECTATIONS[0]!.expectedGbPerS! * 18).toBe(linkFromCell('NV18').expectedGbPerS);
    expect(LINK_EXPECTATIONS[0]!.expectedText).toContain('NV18 ≈ 360 GB/s');
    expect(LINK_EXPECTATIONS_SOURCE).toContain('reference/build-machine.md');
    expect(LINK_EXPECTATIONS_SOURCE).toContain('nvidia-smi topo -m');
  });

  it('finds the row of a matrix cell, NV18 under NV#, and none for the diagonal or unknown cells', () => {
    expect(expectationRow('NV18')?.code).toBe('NV#');
    expect(expectationRow('SYS')?.fitForKv).toBe('poor');
    expect(expectationRow('X')).toBeNull();
    expect(expectationRow(null)).toBeNull();
  });

  it('takes the figures of the largest block count measured', () => {
    expect(largestCountMeasurement(h100, 'gather')?.blocks).toBe(188);
    expect(largestCountMeasurement(h100, 'gather')?.perBlockUs.p50).toBe(5.6637);
    expect(largestCountMeasurement({ ...h100, measurements: [] }, 'gather')).toBeNull();
  });
});

describe('slow-link warnings', () => {
  it('raises nothing for a healthy H100 NVLink pair (gather ≈ 370 GB/s against ≈ 360 expected)', () => {
    expect(fabricWarnings(linkFromCell('NV18'), h100)).toEqual([]);
  });

  it('warns when gather falls under half of what the link should reach, naming both figures', () => {
    const w = fabricWarnings(linkFromCell('NV18'), scaled(scaled(h100, 'gather', 0.3), 'contiguous', 0.3));
    const below = w.find((x) => x.code === 'below-expected');
    expect(below?.level).toBe('warn');
    expect(below?.message).toMatch(/111 GB\/s, 31% of the ≈ 360 GB\/s expected on NV18/);
  });

  it('warns about a pair across NUMA nodes without peer access, and says what to do', () => {
    const r = { ...h100, peerAccess: false, skipped: [{ mode: 'gather' as const, reason: 'no peer access' }], measurements: h100.measurements.filter((m) => m.mode === 'host-staged') };
    const w = fabricWarnings(linkFromCell('SYS'), r);
    expect(w.map((x) => x.code)).toEqual(['no-peer-access', 'slow-link-class']);
    expect(w[0]!.message).toContain('stage KV through host memory');
    expect(w[0]!.message).toMatch(/NVLink or one PCIe switch/);
    expect(w[1]!.message).toContain('SYS');
  });

  it('flags a gathered block well under the contiguous peak as information, not a warning', () => {
    const w = fabricWarnings(linkFromCell('NV18'), scaled(h100, 'gather', 0.7));
    expect(w).toEqual([expect.objectContaining({ code: 'gather-below-contiguous', level: 'info' })]);
    expect(w[0]!.message).toContain('64 pieces of 32 KiB');
  });

  it('warns when staging through host memory is about as fast as the direct path', () => {
    const w = fabricWarnings(linkFromCell('PIX'), scaled(scaled(scaled(h100, 'gather', 0.05), 'contiguous', 0.05), 'host-staged', 0.9));
    expect(w.map((x) => x.code)).toContain('host-staged-not-slower');
  });

  it('says CPU self-test figures are no fabric measurement', () => {
    expect(fabricWarnings(linkFromCell('NV18'), { ...h100, implementation: 'cpu' })[0]?.code).toBe('not-a-gpu-measurement');
  });

  it('has no expectation for an unknown link but still reports the figure', () => {
    const w = fabricWarnings(linkFromCell(null), h100);
    expect(w).toEqual([expect.objectContaining({ code: 'no-expectation', level: 'info' })]);
  });
});

describe('pairs across hosts', () => {
  it('states that kvprobe cannot measure the network path and where the figure comes from instead', () => {
    const note = crossHostNote('gpu-a', 'gpu-b');
    expect(note).toContain('gpu-a');
    expect(note).toContain('NIXL/UCX');
    expect(note).toContain('kvprobe cannot measure');
    expect(note).toContain('vllm:nixl_*');
  });
});
