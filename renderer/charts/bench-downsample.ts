/**
 * Chart-ready views of a run's per-request values: every function returns at most a few thousand
 * points however many requests the run had, because recharts (SVG) slows down past a few thousand
 * (reference/desktop.md §5.2). Inputs are the decoded columns of runs.series (common/run-series.ts):
 * NaN or null mark a request without that value.
 */

export interface XY {
  x: number;
  y: number;
}

/** Finite numbers of a column, nulls dropped, as a typed array (sorts ~10× faster than an array). */
export function finiteValues(col: ArrayLike<number | null>): Float64Array {
  let n = 0;
  for (let k = 0; k < col.length; k++) {
    const v = col[k];
    if (v != null && Number.isFinite(v)) n++;
  }
  const out = new Float64Array(n);
  let i = 0;
  for (let k = 0; k < col.length; k++) {
    const v = col[k];
    if (v != null && Number.isFinite(v)) out[i++] = v;
  }
  return out;
}

export function sortedValues(col: ArrayLike<number | null>): Float64Array {
  return finiteValues(col).sort();
}

/**
 * Min/max per bucket of the x range: each bucket keeps its lowest and highest point in x order,
 * so spikes survive that averaging or LTTB's single pick could drop. x must be ascending.
 * At most 2 × buckets points.
 */
export function minMaxDownsample(x: ArrayLike<number>, y: ArrayLike<number>, buckets: number): XY[] {
  const n = Math.min(x.length, y.length);
  buckets = Math.max(1, Math.floor(buckets));
  if (n <= 2 * buckets) {
    const out: XY[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { x: x[i]!, y: y[i]! };
    return out;
  }
  const x0 = x[0]!;
  const span = x[n - 1]! - x0;
  const out: XY[] = [];
  let i = 0;
  for (let b = 0; b < buckets && i < n; b++) {
    // The last bucket is closed so the final point always lands in it.
    const end = b === buckets - 1 || span === 0 ? Infinity : x0 + (span * (b + 1)) / buckets;
    let lo = -1;
    let hi = -1;
    for (; i < n && x[i]! <= end; i++) {
      if (lo < 0 || y[i]! < y[lo]!) lo = i;
      if (hi < 0 || y[i]! > y[hi]!) hi = i;
    }
    if (lo < 0) continue;
    if (lo === hi) out.push({ x: x[lo]!, y: y[lo]! });
    else {
      const [a, c] = lo < hi ? [lo, hi] : [hi, lo];
      out.push({ x: x[a]!, y: y[a]! }, { x: x[c]!, y: y[c]! });
    }
  }
  return out;
}

export interface ThinnedScatter {
  points: XY[];
  /** Points with both coordinates, before thinning. */
  total: number;
}

/**
 * Thins a scatter to at most `maxPoints` by keeping one point per cell of a grid over the data's
 * range: dense clouds collapse to their outline and density while isolated points (the outliers a
 * scatter is for) are always kept. When the occupied cells still exceed the limit, every k-th
 * kept point is drawn.
 */
export function thinScatter(xs: ArrayLike<number | null>, ys: ArrayLike<number | null>, maxPoints: number, grid = 200): ThinnedScatter {
  const n = Math.min(xs.length, ys.length);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    if (x == null || y == null || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    total++;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (total === 0) return { points: [], total: 0 };
  const cellW = (maxX - minX) / grid || 1;
  const cellH = (maxY - minY) / grid || 1;
  const seen = new Uint8Array((grid + 1) * (grid + 1));
  const kept: XY[] = [];
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    if (x == null || y == null || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    const cell = Math.floor((x - minX) / cellW) * (grid + 1) + Math.floor((y - minY) / cellH);
    if (total > maxPoints && seen[cell]) continue;
    seen[cell] = 1;
    kept.push({ x, y });
  }
  if (kept.length <= maxPoints) return { points: kept, total };
  const step = kept.length / maxPoints;
  const points: XY[] = [];
  for (let k = 0; k < maxPoints; k++) points.push(kept[Math.floor(k * step)]!);
  return { points, total };
}

export interface HistogramBin {
  x0: number;
  x1: number;
  /** Bin centre, the bar's x. */
  x: number;
  count: number;
}

export interface Histogram {
  bins: HistogramBin[];
  /** Values above the last bin (far tail beyond the clip), shown as a note rather than a bar miles away. */
  overflow: number;
  total: number;
}

/**
 * Equal-width bins over [min, upper], where upper is the max unless a far tail would squash the
 * bulk into a few bars: then it is the 99.5th percentile and what lies above is `overflow`.
 * Input: ascending values.
 */
export function histogram(sorted: ArrayLike<number>, bins = 40): Histogram {
  const n = sorted.length;
  if (n === 0) return { bins: [], overflow: 0, total: 0 };
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const p995 = sorted[Math.min(n - 1, Math.floor(0.995 * (n - 1)))]!;
  const upper = max - min > 4 * (p995 - min) && p995 > min ? p995 : max;
  if (upper - min <= 1e-4 * Math.abs(upper)) {
    // Every value the same (to 0.01 %, float noise of a ratio): one bar of a visible width around it.
    const half = Math.abs(min) * 0.005 || 0.5;
    return { bins: [{ x0: min - half, x1: min + half, x: min, count: n }], overflow: 0, total: n };
  }
  const width = (upper - min) / bins;
  const out: HistogramBin[] = Array.from({ length: bins }, (_, i) => ({ x0: min + i * width, x1: min + (i + 1) * width, x: min + (i + 0.5) * width, count: 0 }));
  let overflow = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    if (v > upper) {
      overflow++;
      continue;
    }
    out[Math.min(bins - 1, Math.floor((v - min) / width))]!.count++;
  }
  return { bins: out, overflow, total: n };
}

/**
 * The empirical CDF as at most `maxPoints` (value, percent ≤) points, evenly spaced in rank, with
 * the minimum and maximum always included. Input: ascending values.
 */
export function cdfPoints(sorted: ArrayLike<number>, maxPoints = 400): XY[] {
  const n = sorted.length;
  if (n === 0) return [];
  const m = Math.max(2, Math.min(n, Math.floor(maxPoints)));
  const out: XY[] = [];
  let last = -1;
  for (let k = 0; k < m; k++) {
    const i = m === 1 ? 0 : Math.round((k * (n - 1)) / (m - 1));
    if (i === last) continue;
    last = i;
    out.push({ x: sorted[i]!, y: (100 * (i + 1)) / n });
  }
  return out;
}

/**
 * Points not dominated by another (higher or equal on both axes, strictly higher on one), in
 * ascending x: the throughput/latency trade-off curve of a sweep.
 */
export function paretoFrontier<T extends XY>(points: readonly T[]): T[] {
  const byX = [...points].filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => b.x - a.x || b.y - a.y);
  const front: T[] = [];
  let bestY = -Infinity;
  for (const p of byX) {
    if (p.y > bestY) {
      front.push(p);
      bestY = p.y;
    }
  }
  return front.reverse();
}
