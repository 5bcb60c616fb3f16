/**
 * Static SVG charts for exported reports: rendered here as strings, so a report needs no chart
 * library, no script and no network to show them (issue 8). Each chart is a fixed viewBox that
 * scales with the page; series are downsampled before they get here (a few thousand points at
 * most, CONVENTIONS.md) and every number is printed with few digits to keep the file small.
 */

export interface XySeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** `line` joins points in order; `points` draws dots; `both` does both; `step` draws a staircase (CDFs). */
  mode?: 'line' | 'points' | 'both' | 'step';
  dashed?: boolean;
  /** Text drawn next to each point (load points on a Pareto chart). */
  pointLabels?: readonly string[];
}

export interface RefLine {
  value: number;
  label: string;
}

export interface XyChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly XySeries[];
  /** Horizontal reference lines (the fabric's per-block figure, an SLO). */
  refLines?: readonly RefLine[];
  /** Force the y axis to start at zero (throughputs, counts). */
  yFromZero?: boolean;
  xFromZero?: boolean;
  yMax?: number;
  testId?: string;
}

export interface BarGroup {
  label: string;
  values: ReadonlyArray<number | null>;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** One entry per bar within a group (`A`, `B`, or `p50`, `p90`, …). */
  seriesLabels: readonly string[];
  groups: readonly BarGroup[];
  testId?: string;
}

const W = 640;
const H = 300;
const M = { top: 34, right: 16, bottom: 48, left: 64 };
const LEGEND_ROW = 14;
const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d', '#9333ea'];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** 3 significant digits, no exponent for ordinary magnitudes: tick and point labels. */
export function shortNumber(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trim((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toPrecision(3))}k`;
  if (a >= 1) return trim(v.toPrecision(Math.max(3, Math.floor(Math.log10(a)) + 1)));
  return trim(v.toPrecision(2));
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

/** Coordinates with one decimal: enough on a 640-wide canvas, and half the bytes of full floats. */
function c(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** "Nice" ticks (1, 2, 5 × 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => raw <= s) ?? 10 * mag;
  const start = Math.floor(lo / step) * step;
  const out: number[] = [];
  for (let t = start; t <= hi + step * 1e-9; t += step) out.push(Math.round(t / step) * step);
  if (out[out.length - 1]! < hi) out.push(out[out.length - 1]! + step);
  return out;
}

function header(title: string, testId: string | undefined, kind: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" class="chart" role="img" aria-label="${escapeXml(title)}" data-chart="${kind}"` +
    `${testId ? ` data-testid="${escapeXml(testId)}"` : ''}>` +
    `<text x="${W / 2}" y="20" text-anchor="middle" class="ct">${escapeXml(title)}</text>`
  );
}

function emptyChart(title: string, testId: string | undefined, why: string): string {
  return `${header(title, testId, 'empty')}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="cn">${escapeXml(why)}</text></svg>`;
}

/** Line, scatter and step charts on linear axes with a legend. */
export function xyChart(o: XyChartOptions): string {
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of o.series) {
    const n = Math.min(s.x.length, s.y.length);
    for (let i = 0; i < n; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  }
  for (const r of o.refLines ?? []) {
    if (!Number.isFinite(r.value)) continue;
    yMin = Math.min(yMin, r.value);
    yMax = Math.max(yMax, r.value);
  }
  if (!Number.isFinite(xMin) || !Number.isFinite(yMin)) return emptyChart(o.title, o.testId, 'no data');
  if (o.yFromZero && yMin > 0) yMin = 0;
  if (o.xFromZero && xMin > 0) xMin = 0;
  if (o.yMax !== undefined) yMax = o.yMax;
  const xt = niceTicks(xMin, xMax);
  const yt = niceTicks(yMin, yMax);
  const x0 = xt[0]!;
  const x1 = xt[xt.length - 1]!;
  const y0 = yt[0]!;
  const y1 = yt[yt.length - 1]!;
  const leg = legend(o.series.map((s) => s.label));
  const top = M.top + leg.rows * LEGEND_ROW;
  const pw = W - M.left - M.right;
  const ph = H - top - M.bottom;
  const sx = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * pw;
  const sy = (v: number) => top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const parts: string[] = [header(o.title, o.testId, 'xy')];
  parts.push(axes(xt.map((t) => [sx(t), shortNumber(t)]), yt.map((t) => [sy(t), shortNumber(t)]), o.xLabel, o.yLabel, false, top));
  for (const r of o.refLines ?? []) {
    if (!Number.isFinite(r.value)) continue;
    const y = c(sy(r.value));
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" class="rl"/><text x="${W - M.right - 4}" y="${c(sy(r.value) - 4)}" text-anchor="end" class="rt">${escapeXml(r.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    const color = seriesColor(i);
    const n = Math.min(s.x.length, s.y.length);
    const pts: string[] = [];
    for (let k = 0; k < n; k++) {
      const x = s.x[k]!;
      const y = s.y[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      pts.push(`${c(sx(x))},${c(sy(y))}`);
    }
    const mode = s.mode ?? 'line';
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (mode === 'line' || mode === 'both') parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6"${dash} points="${pts.join(' ')}"><title>${escapeXml(s.label)}</title></polyline>`);
    if (mode === 'step' && pts.length) {
      const d: string[] = [];
      pts.forEach((p, k) => {
        const [px, py] = p.split(',');
        if (k === 0) d.push(`M${px} ${py}`);
        else d.push(`H${px}V${py}`);
      });
      parts.push(`<path fill="none" stroke="${color}" stroke-width="1.6"${dash} d="${d.join('')}"><title>${escapeXml(s.label)}</title></path>`);
    }
    if (mode === 'points' || mode === 'both') {
      // One path of tiny circles-as-squares keeps a 2,000-point scatter to a few tens of KB.
      const r = mode === 'both' ? 3 : 1.6;
      const d = pts.map((p) => {
        const [px, py] = p.split(',').map(Number) as [number, number];
        return `M${c(px - r)} ${c(py - r)}h${2 * r}v${2 * r}h${-2 * r}z`;
      });
      parts.push(`<path fill="${color}" fill-opacity="${mode === 'both' ? 1 : 0.55}" d="${d.join('')}"><title>${escapeXml(s.label)}</title></path>`);
    }
    if (s.pointLabels) {
      for (let j = 0; j < n; j++) {
        const x = s.x[j]!;
        const y = s.y[j]!;
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        const label = s.pointLabels[j];
        if (label) parts.push(`<text x="${c(sx(x) + 5)}" y="${c(sy(y) - 5)}" class="pl" fill="${color}">${escapeXml(label)}</text>`);
      }
    }
  });
  parts.push(leg.svg);
  parts.push('</svg>');
  return parts.join('');
}

/** Grouped vertical bars (percentiles of a metric, A against B). Missing values leave a gap. */
export function barChart(o: BarChartOptions): string {
  const values = o.groups.flatMap((g) => g.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (!values.length) return emptyChart(o.title, o.testId, 'no data');
  const yt = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
  const y0 = yt[0]!;
  const y1 = yt[yt.length - 1]!;
  const leg = legend(o.seriesLabels);
  const top = M.top + leg.rows * LEGEND_ROW;
  const pw = W - M.left - M.right;
  const ph = H - top - M.bottom;
  const sy = (v: number) => top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const gw = pw / o.groups.length;
  const bw = Math.min(40, (gw * 0.8) / Math.max(1, o.seriesLabels.length));
  const parts: string[] = [header(o.title, o.testId, 'bar')];
  const xTicks: Array<[number, string]> = o.groups.map((g, i) => [M.left + gw * (i + 0.5), g.label]);
  parts.push(axes(xTicks, yt.map((t) => [sy(t), shortNumber(t)]), '', o.yLabel, true, top));
  o.groups.forEach((g, i) => {
    const left = M.left + gw * (i + 0.5) - (bw * o.seriesLabels.length) / 2;
    g.values.forEach((v, j) => {
      if (v === null || !Number.isFinite(v)) return;
      const top = sy(Math.max(0, v));
      const bottom = sy(Math.min(0, v));
      parts.push(
        `<rect x="${c(left + j * bw)}" y="${c(top)}" width="${c(bw - 2)}" height="${c(Math.max(0.5, bottom - top))}" fill="${seriesColor(j)}"><title>${escapeXml(`${o.seriesLabels[j] ?? ''} ${g.label}: ${shortNumber(v)}`)}</title></rect>`,
      );
    });
  });
  parts.push(leg.svg);
  parts.push('</svg>');
  return parts.join('');
}

function axes(xTicks: ReadonlyArray<[number, string]>, yTicks: ReadonlyArray<[number, string]>, xLabel: string, yLabel: string, categorical = false, top = M.top): string {
  const out: string[] = [];
  const bottom = H - M.bottom;
  for (const [y, label] of yTicks) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${c(y)}" y2="${c(y)}" class="gl"/><text x="${M.left - 6}" y="${c(y + 4)}" text-anchor="end" class="tk">${escapeXml(label)}</text>`);
  }
  for (const [x, label] of xTicks) {
    if (!categorical) out.push(`<line x1="${c(x)}" x2="${c(x)}" y1="${top}" y2="${bottom}" class="gl"/>`);
    out.push(`<text x="${c(x)}" y="${bottom + 16}" text-anchor="middle" class="tk">${escapeXml(label)}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${bottom}" y2="${bottom}" class="ax"/><line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${bottom}" class="ax"/>`);
  if (xLabel) out.push(`<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle" class="al">${escapeXml(xLabel)}</text>`);
  if (yLabel) out.push(`<text transform="translate(14 ${top + (H - top - M.bottom) / 2}) rotate(-90)" text-anchor="middle" class="al">${escapeXml(yLabel)}</text>`);
  return out.join('');
}

/** The legend sits between the title and the plot, in as many rows as its labels need. */
function legend(labels: readonly string[]): { svg: string; rows: number } {
  if (labels.length < 2) return { svg: '', rows: 0 };
  const out: string[] = [];
  let x = M.left;
  let y = 26;
  let rows = 1;
  for (const [i, label] of labels.entries()) {
    const w = 18 + Math.min(label.length, 40) * 5.6;
    if (x + w > W - M.right && x > M.left) {
      x = M.left;
      y += LEGEND_ROW;
      rows++;
    }
    out.push(`<rect x="${c(x)}" y="${c(y)}" width="10" height="10" fill="${seriesColor(i)}"/><text x="${c(x + 14)}" y="${c(y + 9)}" class="lg">${escapeXml(label.slice(0, 40))}</text>`);
    x += w;
  }
  return { svg: `<g class="legend">${out.join('')}</g>`, rows };
}

// ---------------------------------------------------------------- data shaping

/** Every k-th point so that at most `max` remain (first and last kept). */
export function thin<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  const out: T[] = [];
  const step = (xs.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(xs[Math.round(i * step)]!);
  return out;
}

/** Empirical CDF (x = value, y = % of requests ≤ x) with at most `max` steps. */
export function cdfPoints(values: readonly number[], max = 400): { x: number[]; y: number[] } {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (!n) return { x: [], y: [] };
  const idx = thin(
    sorted.map((_, i) => i),
    max,
  );
  return { x: idx.map((i) => sorted[i]!), y: idx.map((i) => ((i + 1) / n) * 100) };
}

/** Counts in `bins` equal-width bins over [min, max]; x is each bin's centre. */
export function histogram(values: readonly number[], bins = 40): { x: number[]; y: number[]; width: number } {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return { x: [], y: [], width: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const width = hi > lo ? (hi - lo) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const x of v) counts[Math.min(bins - 1, Math.floor((x - lo) / width))]!++;
  return { x: counts.map((_, i) => lo + width * (i + 0.5)), y: counts, width };
}

/** A histogram drawn as columns (each bin a bar touching its neighbours); the y axis counts `yLabel` (default requests). */
export function histogramChart(o: { title: string; xLabel: string; values: readonly number[]; bins?: number; yLabel?: string; testId?: string }): string {
  const h = histogram(o.values, o.bins ?? 40);
  if (!h.x.length) return emptyChart(o.title, o.testId, 'no data');
  const lo = h.x[0]! - h.width / 2;
  const hi = h.x[h.x.length - 1]! + h.width / 2;
  const xt = niceTicks(lo, hi);
  const yt = niceTicks(0, Math.max(...h.y));
  const x0 = xt[0]!;
  const x1 = xt[xt.length - 1]!;
  const y1 = yt[yt.length - 1]!;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * pw;
  const sy = (v: number) => M.top + ph - (v / (y1 || 1)) * ph;
  const parts = [header(o.title, o.testId, 'histogram'), axes(xt.map((t) => [sx(t), shortNumber(t)]), yt.map((t) => [sy(t), shortNumber(t)]), o.xLabel, o.yLabel ?? 'requests')];
  const d: string[] = [];
  h.x.forEach((x, i) => {
    const count = h.y[i]!;
    if (!count) return;
    const left = sx(x - h.width / 2);
    const right = sx(x + h.width / 2);
    d.push(`M${c(left)} ${c(sy(0))}V${c(sy(count))}H${c(Math.max(left + 0.5, right - 0.5))}V${c(sy(0))}z`);
  });
  parts.push(`<path fill="${seriesColor(0)}" fill-opacity="0.8" d="${d.join('')}"/>`, '</svg>');
  return parts.join('');
}

export interface StackedRow {
  label: string;
  /** Drawn left to right; a segment of 0 or less is left out. */
  segments: ReadonlyArray<{ key: string; value: number; dashed?: boolean }>;
}

/**
 * Horizontal stacked bars, one per row, on one linear axis (TTFT by phase per group of requests).
 * Each segment carries its value in data-value; `keys` fixes colours and legend order.
 */
export function stackedBarChart(o: { title: string; xLabel: string; keys: ReadonlyArray<{ key: string; label: string }>; rows: readonly StackedRow[]; testId?: string }): string {
  const totals = o.rows.map((r) => r.segments.reduce((a, g) => a + (g.value > 0 ? g.value : 0), 0));
  if (!o.rows.length || !totals.some((t) => t > 0)) return emptyChart(o.title, o.testId, 'no data');
  const xt = niceTicks(0, Math.max(...totals));
  const x1 = xt[xt.length - 1]!;
  const leg = legend(o.keys.map((k) => k.label));
  const top = M.top + leg.rows * LEGEND_ROW;
  const left = 120;
  const pw = W - left - M.right;
  const ph = H - top - M.bottom;
  const sx = (v: number) => left + (v / (x1 || 1)) * pw;
  const rowH = ph / o.rows.length;
  const bh = Math.min(36, rowH * 0.7);
  const parts: string[] = [header(o.title, o.testId, 'stacked')];
  const bottom = H - M.bottom;
  for (const t of xt) parts.push(`<line x1="${c(sx(t))}" x2="${c(sx(t))}" y1="${top}" y2="${bottom}" class="gl"/><text x="${c(sx(t))}" y="${bottom + 16}" text-anchor="middle" class="tk">${escapeXml(shortNumber(t))}</text>`);
  parts.push(`<line x1="${left}" x2="${W - M.right}" y1="${bottom}" y2="${bottom}" class="ax"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" class="ax"/>`);
  parts.push(`<text x="${left + pw / 2}" y="${H - 8}" text-anchor="middle" class="al">${escapeXml(o.xLabel)}</text>`);
  const colorOf = new Map(o.keys.map((k, i) => [k.key, seriesColor(i)]));
  const labelOf = new Map(o.keys.map((k) => [k.key, k.label]));
  o.rows.forEach((r, i) => {
    const y = top + rowH * i + (rowH - bh) / 2;
    parts.push(`<text x="${left - 6}" y="${c(y + bh / 2 + 4)}" text-anchor="end" class="tk">${escapeXml(r.label)}</text>`);
    let at = 0;
    for (const g of r.segments) {
      if (!(g.value > 0)) continue;
      const dash = g.dashed ? ' fill-opacity="0.55" stroke="#111827" stroke-dasharray="3 2"' : '';
      parts.push(
        `<rect x="${c(sx(at))}" y="${c(y)}" width="${c(Math.max(0.5, sx(at + g.value) - sx(at)))}" height="${c(bh)}" fill="${colorOf.get(g.key) ?? '#9ca3af'}"${dash} data-key="${escapeXml(g.key)}" data-value="${String(g.value)}"><title>${escapeXml(`${labelOf.get(g.key) ?? g.key}: ${shortNumber(g.value)}`)}</title></rect>`,
      );
      at += g.value;
    }
    parts.push(`<text x="${c(sx(at) + 4)}" y="${c(y + bh / 2 + 4)}" class="pl">${escapeXml(shortNumber(at))}</text>`);
  });
  parts.push(leg.svg, '</svg>');
  return parts.join('');
}
