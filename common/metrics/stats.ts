/**
 * Summary statistics exactly as GenAI-Perf and AIPerf compute them (reference/genai-perf.md §4.4):
 * numpy.percentile with its default linear interpolation, np.mean, np.std with ddof=0 (population),
 * min and max. AIPerf's MetricArray.to_result calls np.std() without ddof, and the v0.1.0-dev-run1
 * fixture's CSV matches the population figure (Request Latency std 220.22; the sample std is 221.47).
 */

export const PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99] as const;
export type Percentile = (typeof PERCENTILES)[number];
export type PercentileKey = `p${Percentile}`;

export interface Stats {
  count: number;
  sum: number;
  avg: number;
  min: number;
  max: number;
  /** Population standard deviation (ddof = 0), as np.std. */
  std: number;
  p1: number;
  p5: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
}

/**
 * numpy's default ('linear') percentile of an ascending array: virtual index h = (n−1)·p/100,
 * interpolated between the neighbours with numpy's two-sided lerp (from below when the fraction is
 * < 0.5, from above otherwise) so results match numpy to the last bit in the common cases.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1) return sorted[0] as number;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1] as number;
  if (lo < 0) return sorted[0] as number;
  const t = h - lo;
  const a = sorted[lo] as number;
  const b = sorted[lo + 1] as number;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Statistics of a sample; null for an empty one (a metric with no data is omitted, as both tools do). */
export function summarize(values: ArrayLike<number>): Stats | null {
  const n = values.length;
  if (n === 0) return null;
  // A Float64Array sorts numerically in native code, far faster than Array#sort with a comparator.
  const sorted = Float64Array.from(values as ArrayLike<number>);
  sorted.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const avg = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = (sorted[i] as number) - avg;
    sq += d * d;
  }
  return {
    count: n,
    sum,
    avg,
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    std: Math.sqrt(sq / n),
    p1: percentileOfSorted(sorted, 1),
    p5: percentileOfSorted(sorted, 5),
    p10: percentileOfSorted(sorted, 10),
    p25: percentileOfSorted(sorted, 25),
    p50: percentileOfSorted(sorted, 50),
    p75: percentileOfSorted(sorted, 75),
    p90: percentileOfSorted(sorted, 90),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
  };
}
