import { describe, expect, it } from 'vitest';
import { percentileOfSorted, summarize } from './stats';

describe('summarize', () => {
  it('computes numpy-linear percentiles, mean, population std, min and max of a hand-checked sample', () => {
    // Sorted [1,2,3,4]: virtual index h = 3·p/100, value = x[floor h] + frac·(x[floor h + 1] − x[floor h]).
    const s = summarize([3, 1, 4, 2])!;
    expect(s.count).toBe(4);
    expect(s.sum).toBe(10);
    expect(s.avg).toBe(2.5);
    expect(s.min).toBe(1);
    expect(s.max).toBe(4);
    // Population: sqrt(((1.5² + 0.5²)·2) / 4) = sqrt(1.25); the sample std would be sqrt(5/3).
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(s.p1).toBeCloseTo(1.03, 12);
    expect(s.p5).toBeCloseTo(1.15, 12);
    expect(s.p10).toBeCloseTo(1.3, 12);
    expect(s.p25).toBeCloseTo(1.75, 12);
    expect(s.p50).toBeCloseTo(2.5, 12);
    expect(s.p75).toBeCloseTo(3.25, 12);
    expect(s.p90).toBeCloseTo(3.7, 12);
    expect(s.p95).toBeCloseTo(3.85, 12);
    expect(s.p99).toBeCloseTo(3.97, 12);
  });

  it('gives every statistic the value itself for a single sample and zero spread', () => {
    const s = summarize([7.5])!;
    expect([s.avg, s.min, s.max, s.p1, s.p50, s.p99]).toEqual([7.5, 7.5, 7.5, 7.5, 7.5, 7.5]);
    expect(s.std).toBe(0);
  });

  it('returns null for an empty sample, so the metric is omitted as the tools do', () => {
    expect(summarize([])).toBeNull();
  });

  it('interpolates between neighbours of an odd-length sample like numpy', () => {
    // np.percentile([10, 20, 30, 40, 100], [10, 50, 95]) == [14, 30, 88]
    const sorted = [10, 20, 30, 40, 100];
    expect(percentileOfSorted(sorted, 10)).toBeCloseTo(14, 12);
    expect(percentileOfSorted(sorted, 50)).toBe(30);
    expect(percentileOfSorted(sorted, 95)).toBeCloseTo(88, 12);
    expect(percentileOfSorted(sorted, 100)).toBe(100);
    expect(percentileOfSorted(sorted, 0)).toBe(10);
  });

  it('does not modify the caller’s array, small or large', () => {
    const v = [3, 1, 2];
    summarize(v);
    expect(v).toEqual([3, 1, 2]);
    const big = Float64Array.from({ length: 60_000 }, (_, i) => (i * 7919) % 60_000);
    const before = Float64Array.from(big);
    summarize(big);
    expect(big).toEqual(before);
  });

  it('gives the same statistics by order-statistic selection on large samples as by a full sort', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    // Many ties (rounded values) and a long tail, like pooled inter-chunk latencies.
    const v = Array.from({ length: 120_001 }, () => Math.round((rnd() < 0.01 ? 100 + rnd() * 1000 : 20 + rnd() * 5) * 100) / 100);
    const s = summarize(v)!;
    const sorted = [...v].sort((a, b) => a - b);
    for (const p of [1, 5, 10, 25, 50, 75, 90, 95, 99] as const) expect(s[`p${p}`], `p${p}`).toBe(percentileOfSorted(sorted, p));
    expect(s.min).toBe(sorted[0]);
    expect(s.max).toBe(sorted[sorted.length - 1]);
  });

  it('selects exactly with extreme outliers, all-equal values and negative values', () => {
    const cases = [
      Array.from({ length: 60_001 }, (_, i) => (i === 5 ? 1e12 : (i * 7919) % 1000)),
      Array.from({ length: 60_000 }, () => 3.25),
      Array.from({ length: 70_000 }, (_, i) => -((i * 104729) % 5003) / 7),
    ];
    for (const v of cases) {
      const s = summarize(v)!;
      const sorted = [...v].sort((a, b) => a - b);
      for (const p of [1, 5, 10, 25, 50, 75, 90, 95, 99] as const) expect(s[`p${p}`]).toBe(percentileOfSorted(sorted, p));
      expect([s.min, s.max]).toEqual([sorted[0], sorted[sorted.length - 1]]);
    }
  });
});
