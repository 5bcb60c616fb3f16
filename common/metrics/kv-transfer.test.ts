import { describe, expect, it } from 'vitest';
import { blockLatencySummary, bytesPerBlockPerRank, nixlCountersFromValues, perBlockLatency, type NixlCounters } from './kv-transfer';
import { parsePromText, toSeriesValues } from './prom-text';

const LLAMA_8B = { layers: 32, blockSize: 16, kvHeads: 8, headDim: 128, dtypeBytes: 2, tp: 1 };
const MIB = 1024 * 1024;

describe('bytesPerBlockPerRank', () => {
  it('is 2 × layers × block size × KV heads per rank × head dim × dtype bytes', () => {
    expect(bytesPerBlockPerRank(LLAMA_8B)).toBe(2 * 32 * 16 * 8 * 128 * 2); // 2 MiB
    expect(bytesPerBlockPerRank({ ...LLAMA_8B, tp: 2 })).toBe(MIB);
    // TP beyond the KV heads replicates heads: each rank still holds one.
    expect(bytesPerBlockPerRank({ ...LLAMA_8B, tp: 16 })).toBe(2 * 32 * 16 * 1 * 128 * 2);
  });

  it('uses one latent vector per token and layer for MLA models', () => {
    expect(bytesPerBlockPerRank({ ...LLAMA_8B, layers: 61, blockSize: 64, mlaLatentDim: 576 })).toBe(61 * 64 * 576 * 2);
  });

  it('rejects a zero or missing dimension with a message saying where to look', () => {
    expect(() => bytesPerBlockPerRank({ ...LLAMA_8B, kvHeads: 0 })).toThrow(/kvHeads must be a positive number/);
  });
});

describe('perBlockLatency', () => {
  it('divides the transfer time by the blocks moved between two scrapes', () => {
    const a: NixlCounters = { tMs: 0, xferTimeSumS: 1.0, bytesSum: 10 * 2 * MIB, transfers: 2 };
    const b: NixlCounters = { tMs: 1000, xferTimeSumS: 1.5, bytesSum: 110 * 2 * MIB, transfers: 7 };
    const r = perBlockLatency(a, b, 2 * MIB)!;
    expect(r.blocks).toBe(100);
    expect(r.perBlockS).toBeCloseTo(0.005, 15); // 0.5 s over 100 blocks
    expect(r.transfers).toBe(5);
  });

  it('is undefined when no bytes moved or a counter went backwards', () => {
    const a: NixlCounters = { tMs: 0, xferTimeSumS: 1, bytesSum: 100 };
    expect(perBlockLatency(a, { ...a, tMs: 1 }, 10)).toBeUndefined();
    expect(perBlockLatency(a, { tMs: 1, xferTimeSumS: 0.5, bytesSum: 200 }, 10)).toBeUndefined();
  });

  it('reads the counters from scraped /metrics text, summing engines', () => {
    const text = [
      'vllm:nixl_xfer_time_seconds_sum{engine="0",model_name="m"} 0.25',
      'vllm:nixl_xfer_time_seconds_sum{engine="1",model_name="m"} 0.25',
      'vllm:nixl_xfer_time_seconds_count{engine="0",model_name="m"} 4',
      'vllm:nixl_bytes_transferred_sum{engine="0",model_name="m"} 4194304',
      'vllm:nixl_bytes_transferred_sum{engine="1",model_name="m"} 4194304',
    ].join('\n');
    const c = nixlCountersFromValues(5, toSeriesValues(parsePromText(text)))!;
    expect(c).toEqual({ tMs: 5, xferTimeSumS: 0.5, bytesSum: 8 * MIB, transfers: 4 });
    expect(nixlCountersFromValues(5, { 'vllm:num_requests_running': 1 })).toBeUndefined();
  });
});

describe('blockLatencySummary', () => {
  it('gives the run figure as a ratio of sums and the distribution over busy intervals', () => {
    const bpb = 1000;
    const scrapes: NixlCounters[] = [
      { tMs: 0, xferTimeSumS: 0, bytesSum: 0 },
      { tMs: 1000, xferTimeSumS: 0.01, bytesSum: 10_000 }, // 10 blocks, 1 ms each
      { tMs: 2000, xferTimeSumS: 0.01, bytesSum: 10_000 }, // idle: not an interval
      { tMs: 3000, xferTimeSumS: 0.07, bytesSum: 30_000 }, // 20 blocks, 3 ms each
    ];
    const s = blockLatencySummary(scrapes, bpb);
    expect(s.intervals.map((i) => i.perBlockS * 1000)).toEqual([1, expect.closeTo(3, 12)]);
    expect(s.run!.blocks).toBe(30);
    expect(s.run!.perBlockS * 1000).toBeCloseTo(70 / 30, 12);
    expect(s.stats!.p50 * 1000).toBeCloseTo(2, 12);
  });

  it('sums the valid intervals when a worker restart reset the counters', () => {
    const s = blockLatencySummary([
      { tMs: 0, xferTimeSumS: 1, bytesSum: 10_000 },
      { tMs: 1, xferTimeSumS: 1.01, bytesSum: 20_000 },
      { tMs: 2, xferTimeSumS: 0, bytesSum: 0 },
      { tMs: 3, xferTimeSumS: 0.03, bytesSum: 10_000 },
    ], 1000);
    expect(s.intervals).toHaveLength(2);
    expect(s.run!.blocks).toBe(20);
    expect(s.run!.perBlockS * 1000).toBeCloseTo(2, 12);
  });
});
