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

// Above this size the order statistics that percentiles need are found without sorting: AIPerf's
// inter-chunk latency pools every chunk of every request (13.5 M values for 100 k requests of 150
// tokens) and a full sort dominated the import time. One pass counts values into value-range
// buckets; only the few buckets holding a needed rank are then sorted. Exact, not approximate.
const SELECT_ABOVE = 50_000;

/**
 * Returns the values at the given ascending ranks of `a` as a full ascending sort would place them.
 * Falls back to sorting when the values do not spread over the buckets (all equal, or one bucket
 * holding most of them).
 */
function orderStatistics(a: Float64Array, ranks: readonly number[], min: number, max: number): number[] {
  const n = a.length;
  const bySorting = () => {
    const copy = Float64Array.from(a).sort();
    return ranks.map((r) => copy[r]!);
  };
  if (!(max > min) || !Number.isFinite(max - min)) return bySorting();
  const buckets = Math.min(1 << 20, Math.max(1024, n >>> 3));
  const scale = (buckets - 1) / (max - min);
  const counts = new Uint32Array(buckets);
  for (let i = 0; i < n; i++) counts[((a[i]! - min) * scale) | 0]!++;
  // For each rank: its bucket and its position inside that bucket.
  const need = new Map<number, number[]>();
  const where: [number, number][] = [];
  let cum = 0;
  let b = 0;
  for (const r of ranks) {
    while (b < buckets && cum + counts[b]! <= r) cum += counts[b++]!;
    if (b >= buckets) return bySorting(); // NaN values were not counted
    where.push([b, r - cum]);
    if (!need.has(b)) need.set(b, []);
  }
  let gathered = 0;
  for (const k of need.keys()) gathered += counts[k]!;
  if (gathered > n / 4) return bySorting();
  // slot[b] = index of bucket b among the needed ones, or -1: an array lookup per value, not a Map.
  const slot = new Int32Array(buckets).fill(-1);
  const lists: Float64Array[] = [];
  const fill: number[] = [];
  for (const k of need.keys()) {
    slot[k] = lists.length;
    lists.push(new Float64Array(counts[k]!));
    fill.push(0);
  }
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    const j = slot[((v - min) * scale) | 0]!;
    if (j >= 0) lists[j]![fill[j]!++] = v;
  }
  const sorted = new Map<number, Float64Array>();
  for (const k of need.keys()) sorted.set(k, lists[slot[k]!]!.sort());
  return where.map(([k, pos]) => sorted.get(k)![pos]!);
}

const STAT_PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99] as const;

/** Statistics of a sample; null for an empty one (a metric with no data is omitted, as both tools do). */
export function summarize(values: ArrayLike<number>): Stats | null {
  const n = values.length;
  if (n === 0) return null;
  // Loops over one typed array stay monomorphic (callers pass arrays and typed arrays). Only the
  // sorting path reorders, and it works on a copy so the caller's data keeps its order.
  const big = n > SELECT_ABOVE;
  const a = big && values instanceof Float64Array ? values : Float64Array.from(values);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const avg = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - avg;
    sq += d * d;
  }
  const pct: Record<number, number> = {};
  if (big) {
    const ranks = new Set<number>();
    for (const p of STAT_PERCENTILES) {
      const h = Math.floor(((n - 1) * p) / 100);
      ranks.add(h);
      ranks.add(Math.min(n - 1, h + 1));
    }
    const sortedRanks = [...ranks].sort((x, y) => x - y);
    const vals = orderStatistics(a, sortedRanks, min, max);
    // A sparse view holding just the ranks percentileOfSorted reads.
    const view: Record<number, number> = {};
    sortedRanks.forEach((r, i) => (view[r] = vals[i]!));
    const like = { length: n, ...view } as ArrayLike<number>;
    for (const p of STAT_PERCENTILES) pct[p] = percentileOfSorted(like, p);
  } else {
    a.sort(); // numeric, in native code
    for (const p of STAT_PERCENTILES) pct[p] = percentileOfSorted(a, p);
  }
  return {
    count: n,
    sum,
    avg,
    min,
    max,
    std: Math.sqrt(sq / n),
    p1: pct[1]!,
    p5: pct[5]!,
    p10: pct[10]!,
    p25: pct[25]!,
    p50: pct[50]!,
    p75: pct[75]!,
    p90: pct[90]!,
    p95: pct[95]!,
    p99: pct[99]!,
  };
}
