/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013): keeps the first and last points and, per
 * bucket, the point forming the largest triangle with its neighbours, so peaks and the shape
 * survive while a chart gets at most `threshold` points (recharts slows down past a few thousand:
 * reference/desktop.md §5.2).
 */
export interface Point {
  t: number;
  v: number;
}

export function lttb(t: ArrayLike<number>, v: ArrayLike<number>, threshold: number): Point[] {
  const n = Math.min(t.length, v.length);
  // Fewer than 3 points cannot keep both ends and a middle.
  threshold = Math.max(3, Math.floor(threshold));
  if (threshold >= n) {
    const out: Point[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { t: t[i]!, v: v[i]! };
    return out;
  }
  const out: Point[] = [{ t: t[0]!, v: v[0]! }];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // The average of the next bucket stands in for the third vertex.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgT = 0;
    let avgV = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgT += t[j]!;
      avgV += v[j]!;
    }
    const len = Math.max(1, nextEnd - nextStart);
    avgT /= len;
    avgV /= len;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const at = t[a]!;
    const av = v[a]!;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((at - avgT) * (v[j]! - av) - (at - t[j]!) * (avgV - av));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push({ t: t[best]!, v: v[best]! });
    a = best;
  }
  out.push({ t: t[n - 1]!, v: v[n - 1]! });
  return out;
}
