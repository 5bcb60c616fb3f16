import { describe, expect, it } from 'vitest';
import { barChart, cdfPoints, escapeXml, histogram, histogramChart, niceTicks, shortNumber, stackedBarChart, thin, xyChart } from './svg-chart';

describe('svg charts', () => {
  it('picks round ticks that cover the data', () => {
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(3.2, 3.9)[0]).toBeLessThanOrEqual(3.2);
    expect(niceTicks(5, 5).length).toBeGreaterThan(1);
  });

  it('prints short tick numbers', () => {
    expect(shortNumber(12345)).toBe('12.3k');
    expect(shortNumber(2.5)).toBe('2.5');
    expect(shortNumber(0.0042)).toBe('0.0042');
    expect(shortNumber(0)).toBe('0');
  });

  it('escapes labels so data cannot inject markup', () => {
    const svg = xyChart({ title: '<script>alert(1)</script>', xLabel: 'x', yLabel: 'y', series: [{ label: 'a"b', x: [1, 2], y: [3, 4] }] });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(escapeXml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('draws a static svg with one shape per series and a legend for several', () => {
    const svg = xyChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 'one', x: [0, 1, 2], y: [1, 2, 3] }, { label: 'two', x: [0, 1], y: [2, 2], mode: 'points' }], refLines: [{ value: 2.5, label: 'ref' }] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg).toContain('class="legend"');
    expect(svg).toContain('class="rl"');
  });

  it('says "no data" instead of drawing an empty plot', () => {
    expect(xyChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 'a', x: [], y: [] }] })).toContain('no data');
    expect(barChart({ title: 't', yLabel: 'y', seriesLabels: ['a'], groups: [{ label: 'g', values: [null] }] })).toContain('no data');
    expect(histogramChart({ title: 't', xLabel: 'x', values: [] })).toContain('no data');
  });

  it('thins a series to at most the given number of points, keeping both ends', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const t = thin(xs, 100);
    expect(t).toHaveLength(100);
    expect(t[0]).toBe(0);
    expect(t[99]).toBe(9999);
  });

  it('builds a CDF ending at 100 % and a histogram that counts every value', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i % 37);
    const c = cdfPoints(values, 50);
    expect(c.x.length).toBeLessThanOrEqual(50);
    expect(c.y[c.y.length - 1]).toBe(100);
    expect(histogram(values, 10).y.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('stacks each row\'s segments with their exact values, leaves out empty ones, and says when there is nothing to draw', () => {
    const svg = stackedBarChart({
      title: 'TTFT <by> phase',
      xLabel: 'ms',
      keys: [
        { key: 'a', label: 'prefill' },
        { key: 'b', label: 'KV transfer' },
      ],
      rows: [
        { label: 'all', segments: [{ key: 'a', value: 30.5 }, { key: 'b', value: 0.25, dashed: true }] },
        { label: 'local', segments: [{ key: 'a', value: 12 }, { key: 'b', value: 0 }] },
      ],
      testId: 'stack',
    });
    expect(svg).toContain('data-chart="stacked"');
    expect(svg).toContain('TTFT &lt;by&gt; phase');
    expect([...svg.matchAll(/data-value="([^"]+)"/g)].map((m) => Number(m[1]))).toEqual([30.5, 0.25, 12]);
    expect(svg.match(/stroke-dasharray="3 2"/g)).toHaveLength(1);
    expect(stackedBarChart({ title: 't', xLabel: 'ms', keys: [], rows: [{ label: 'x', segments: [] }] })).toContain('data-chart="empty"');
  });
});
