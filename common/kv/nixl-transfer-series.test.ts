import { describe, expect, it } from 'vitest';
import { buildNixlTransferSeries, decodeTransferColumns, NixlTransferSeries, transfersOverTime } from './nixl-transfer-series';
import type { NixlTransferRecord } from './nixl-transfer';

const rec = (worker: string, atMs: number, durationUs: number, blocks: number): NixlTransferRecord => ({ worker, agent: 'a', atMs, durationUs, postUs: 1, bytes: blocks * 1024, descriptors: null, blocks, perBlockUs: blocks ? durationUs / blocks : null });

describe('NIXL transfer series', () => {
  it('packs one value per transfer and gives each worker the ratio of sums that the vllm:nixl_* cross-check uses', () => {
    const s = buildNixlTransferSeries([rec('decode-0', 1000, 100, 10), rec('decode-0', 2000, 300, 10), rec('decode-1', 2500, 50, 0)]);
    expect(NixlTransferSeries.parse(s)).toEqual(s);
    expect(s.workers).toEqual([
      { worker: 'decode-0', transfers: 2, blocks: 20, bytes: 20480, durationUs: 400, perBlockUs: 20 },
      { worker: 'decode-1', transfers: 1, blocks: 0, bytes: 0, durationUs: 50, perBlockUs: null },
    ]);
    expect(s.perBlockUs).toEqual({ p50: 20, p90: 28, p99: 29.8, mean: 20 });
    const c = decodeTransferColumns(s);
    expect(Array.from(c.atS)).toEqual([1, 2, 2.5]);
    expect(Array.from(c.perBlockUs).map((v) => (Number.isNaN(v) ? null : v))).toEqual([10, 30, null]);
  });

  it('refuses a column that does not hold one value per transfer', () => {
    const s = buildNixlTransferSeries([rec('d', 0, 1, 1)]);
    expect(() => decodeTransferColumns({ ...s, count: 2 })).toThrow(/holds 1 values, not 2/);
  });

  it('bins transfers over time at no finer than the reader\'s 200 ms, counting every transfer once', () => {
    const atS = Float32Array.from([0, 0.05, 0.1, 0.5, 0.9, 1]);
    const bins = transfersOverTime(atS);
    expect(bins.map((b) => b.x)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(bins.reduce((a, b) => a + b.y * 0.2, 0)).toBeCloseTo(6, 9);
    expect(transfersOverTime([])).toEqual([]);
    expect(transfersOverTime(Array.from({ length: 1000 }, (_, i) => i), 50).length).toBeLessThanOrEqual(51);
  });
});
