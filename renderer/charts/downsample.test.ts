import { describe, expect, it } from 'vitest';
import { lttb } from './downsample';

describe('lttb', () => {
  it('returns every point when there are fewer than asked for', () => {
    expect(lttb([1, 2, 3], [5, 6, 7], 10)).toEqual([
      { t: 1, v: 5 },
      { t: 2, v: 6 },
      { t: 3, v: 7 },
    ]);
  });

  it('keeps the first and last points, the threshold count, time order and a lone spike', () => {
    const n = 100_000;
    const t = new Float64Array(n);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      t[i] = i;
      v[i] = Math.sin(i / 500);
    }
    v[54_321] = 50;
    const out = lttb(t, v, 600);
    expect(out).toHaveLength(600);
    expect(out[0]).toEqual({ t: 0, v: 0 });
    expect(out.at(-1)?.t).toBe(n - 1);
    for (let i = 1; i < out.length; i++) expect(out[i]!.t).toBeGreaterThan(out[i - 1]!.t);
    expect(out.some((p) => p.v === 50)).toBe(true);
  });

  it('treats thresholds below 3 as 3', () => {
    expect(lttb([0, 1, 2, 3, 4], [0, 9, 0, 0, 0], 1)).toEqual([
      { t: 0, v: 0 },
      { t: 1, v: 9 },
      { t: 4, v: 0 },
    ]);
  });
});
