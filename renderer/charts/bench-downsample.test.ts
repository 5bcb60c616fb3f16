import { describe, expect, it } from 'vitest';
import { cdfPoints, finiteValues, histogram, minMaxDownsample, paretoFrontier, sortedValues, thinScatter } from './bench-downsample';

describe('bench downsampling', () => {
  it('keeps each bucket\'s minimum and maximum in x order, so a one-sample spike survives', () => {
    const n = 100_000;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => (i === 54_321 ? 1000 : i % 7));
    const out = minMaxDownsample(x, y, 500);
    expect(out.length).toBeLessThanOrEqual(1000);
    expect(out.some((p) => p.x === 54_321 && p.y === 1000)).toBe(true);
    expect(out[0]!.x).toBe(0);
    for (let i = 1; i < out.length; i++) expect(out[i]!.x).toBeGreaterThan(out[i - 1]!.x);
    // The last point of the input is in the last bucket.
    expect(out[out.length - 1]!.x).toBeGreaterThan(n - 1 - n / 500);
  });

  it('returns short series unchanged', () => {
    expect(minMaxDownsample([1, 2, 3], [5, 6, 7], 10)).toEqual([{ x: 1, y: 5 }, { x: 2, y: 6 }, { x: 3, y: 7 }]);
    expect(minMaxDownsample([], [], 10)).toEqual([]);
  });

  it('thins a dense scatter to the limit but keeps an isolated outlier', () => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      xs.push(3000 + (i % 50));
      ys.push(100 + ((i * 7919) % 1000) / 10);
    }
    xs.push(3010);
    ys.push(5000);
    const t = thinScatter(xs, ys, 2000);
    expect(t.total).toBe(100_001);
    expect(t.points.length).toBeLessThanOrEqual(2000);
    expect(t.points.some((p) => p.y === 5000)).toBe(true);
  });

  it('skips requests without both values and keeps every point of a small scatter', () => {
    const t = thinScatter([1, null, 3], [2, 5, null], 100);
    expect(t).toEqual({ points: [{ x: 1, y: 2 }], total: 1 });
  });

  it('bins values into equal-width bars that add up to the count', () => {
    const sorted = sortedValues([5, 1, 2, 2, 3, 4, null, 4, 4]);
    const h = histogram(sorted, 4);
    expect(h.total).toBe(8);
    expect(h.bins.map((b) => b.count)).toEqual([1, 2, 1, 4]);
    expect(h.bins[0]!.x0).toBe(1);
    expect(h.bins[3]!.x1).toBe(5);
    expect(h.overflow).toBe(0);
  });

  it('moves a far tail into an overflow count instead of squashing the bulk', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 100 + (i % 10));
    values.push(100_000, 200_000);
    const h = histogram(sortedValues(values), 10);
    expect(h.overflow).toBe(2);
    expect(h.bins.reduce((s, b) => s + b.count, 0)).toBe(1000);
    expect(h.bins[h.bins.length - 1]!.x1).toBeLessThan(200);
  });

  it('draws a constant sample as one bar of visible width', () => {
    expect(histogram(Float64Array.of(200, 200, 200)).bins).toEqual([{ x0: 199, x1: 201, x: 200, count: 3 }]);
    expect(histogram(Float64Array.of(0)).bins).toEqual([{ x0: -0.5, x1: 0.5, x: 0, count: 1 }]);
    expect(histogram(Float64Array.of(5.86461, 5.864612, 5.864615)).bins).toHaveLength(1);
  });

  it('gives a CDF from the minimum to the maximum at 100 %', () => {
    const sorted = finiteValues(Array.from({ length: 10_000 }, (_, i) => i)).sort();
    const c = cdfPoints(sorted, 101);
    expect(c.length).toBe(101);
    expect(c[0]).toEqual({ x: 0, y: 0.01 });
    expect(c[100]).toEqual({ x: 9999, y: 100 });
    expect(c[50]!.x).toBe(5000);
    expect(cdfPoints(Float64Array.of(3), 10)).toEqual([{ x: 3, y: 100 }]);
  });

  it('keeps only the points no other point beats on both axes', () => {
    const pts = [
      { x: 10, y: 100, id: 'a' },
      { x: 20, y: 80, id: 'b' },
      { x: 15, y: 70, id: 'dominated' },
      { x: 30, y: 20, id: 'c' },
    ];
    expect(paretoFrontier(pts).map((p) => p.id)).toEqual(['a', 'b', 'c']);
  });
});
