import YAML from 'yaml';
import { describeWorkload, formatPct, loadPointOf, type GroupComparison, type MetricDelta, type RunComparison } from '../../../common/compare';
import { DISTRIBUTION_METRICS } from '../../../common/metrics/metric-keys';
import { distributionRows, paretoFrontier, scalarRows, sweepPoint, type ReportData, type ReportRun, type SweepPoint } from '../../../common/report-model';
import type { Workload } from '../../../common/run-record';
import { barChart, cdfPoints, escapeXml, histogramChart, thin, xyChart, type XySeries } from './svg-chart';
import { nixlTelemetryHtml, waterfallHtml } from './report-html-kv';

/**
 * The self-contained HTML report: one file with inline CSS, a few lines of inline script (copy
 * buttons) and static SVG charts, under a Content-Security-Policy that forbids every network
 * request. Numbers shown rounded carry their exact value in `data-value`, so tests (and scripts)
 * read the same figures as run.json and the metrics.
 */

const esc = escapeXml;

/** Display rounding: about 4 significant digits, thousands separated. */
export function fmtNumber(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  let s: string;
  if (Number.isInteger(v)) s = v.toLocaleString('en-US');
  else if (a >= 1000) s = Math.round(v).toLocaleString('en-US');
  else if (a >= 100) s = v.toFixed(1);
  else if (a >= 10) s = v.toFixed(2);
  else if (a >= 0.01) s = v.toFixed(3);
  else s = v.toPrecision(3);
  return unit ? `${s} ${unit}` : s;
}

function num(v: number | null | undefined, key: string, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return `<td class="n" data-k="${esc(key)}">—</td>`;
  return `<td class="n" data-k="${esc(key)}" data-value="${String(v)}">${esc(fmtNumber(v, unit))}</td>`;
}

function table(head: readonly string[], rows: readonly string[], testId?: string): string {
  return `<table${testId ? ` data-testid="${esc(testId)}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function pre(lines: string | readonly string[], cls = 'cmd'): string {
  const text = typeof lines === 'string' ? lines : lines.join('\n');
  return `<div class="pre"><button type="button" class="copy" title="Copy">copy</button><pre class="${cls}">${esc(text)}</pre></div>`;
}

const CSS = `
:root{--fg:#111827;--mut:#6b7280;--bd:#e5e7eb;--bg:#fff;--acc:#2563eb}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid var(--bd);padding-bottom:4px}
h3{font-size:16px;margin:20px 0 6px}h4{font-size:14px;margin:14px 0 4px}
.meta{color:var(--mut);font-size:13px}
.banner{background:#fef3c7;border:2px solid #d97706;color:#7c2d12;padding:12px 16px;border-radius:6px;margin:16px 0;font-weight:600}
.verdict{border-left:6px solid var(--acc);background:#eff6ff;padding:12px 16px;margin:12px 0;font-size:16px}
.verdict.better{border-color:#059669;background:#ecfdf5}.verdict.worse{border-color:#dc2626;background:#fef2f2}
.verdict.mixed{border-color:#d97706;background:#fffbeb}.verdict.not-comparable{border-color:#6b7280;background:#f3f4f6}
.badge{display:inline-block;font-size:12px;padding:1px 8px;border-radius:10px;background:#e5e7eb;margin-right:4px}
.badge.sim{background:#fde68a;color:#7c2d12}.badge.better{background:#d1fae5}.badge.worse{background:#fee2e2}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid var(--bd);padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f9fafb;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:12px}
svg.chart{width:100%;height:auto;border:1px solid var(--bd);border-radius:4px;background:#fff}
svg .ct{font-size:13px;font-weight:600;fill:#111827}svg .tk{font-size:10px;fill:#4b5563}svg .al{font-size:11px;fill:#374151}
svg .gl{stroke:#eef0f3}svg .ax{stroke:#9ca3af}svg .rl{stroke:#111827;stroke-dasharray:3 3}svg .rt,svg .pl{font-size:10px}svg .lg{font-size:10px;fill:#374151}svg .cn{font-size:12px;fill:#6b7280}
.pre{position:relative}pre{background:#f6f8fa;border:1px solid var(--bd);padding:8px 10px;overflow-x:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;word-break:break-all}
.copy{position:absolute;right:6px;top:6px;font-size:11px;border:1px solid var(--bd);background:#fff;border-radius:4px;cursor:pointer}
section.run{page-break-before:always}ul{margin:4px 0 8px 18px;padding:0}
@media print{.copy{display:none}main{padding:0}.charts{grid-template-columns:1fr 1fr}svg.chart{break-inside:avoid}table{break-inside:avoid}}
`;

const SCRIPT = `document.querySelectorAll('.copy').forEach(function(b){b.addEventListener('click',function(){var t=b.nextElementSibling.textContent;if(navigator.clipboard){navigator.clipboard.writeText(t);b.textContent='copied';setTimeout(function(){b.textContent='copy'},1200)}})});`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'";

export function renderReportHtml(data: ReportData): string {
  const simulated = data.runs.some((r) => r.run.simulated);
  const body: string[] = [];
  body.push(`<h1 data-testid="report-title">${esc(data.title)}</h1>`);
  body.push(
    `<div class="meta">Generated ${esc(data.generatedAt)} by Handoff ${esc(data.handoffVersion)} · ${data.runs.length} run${data.runs.length === 1 ? '' : 's'}: ${data.runs.map((r) => `<code>${esc(r.run.id)}</code>`).join(', ')}</div>`,
  );
  if (simulated) {
    const which = data.runs.filter((r) => r.run.simulated).map((r) => r.run.id);
    body.push(
      `<div class="banner" data-testid="simulated-banner">Simulated engine: ${which.length === data.runs.length ? 'every run in this report' : `run${which.length > 1 ? 's' : ''} ${esc(which.join(', '))}`} used Handoff's mocker, a GPU-free latency model. Its numbers are not measurements of GPUs or of vLLM.</div>`,
    );
  }
  if (data.kind === 'compare' && data.comparison) body.push(renderComparison(data));
  else if (data.runs.length > 1) body.push(renderSweep(data.runs, data.kind === 'sweep' ? 'Sweep' : 'Runs'));
  else if (data.runs[0]) body.push(renderSummary(data.runs[0]));
  for (const r of data.runs) body.push(renderRun(r, data));
  const machine = {
    schema: 'handoff-report/v1',
    kind: data.kind,
    generatedAt: data.generatedAt,
    comparison: data.comparison ? { kind: data.comparison.kind, verdict: data.comparison.verdict } : null,
    runs: data.runs.map((r) => ({ id: r.run.id, simulated: r.run.simulated, status: r.run.status, deployment: r.run.deployment, workload: r.run.workload, metrics: r.metrics })),
  };
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="Handoff ${esc(data.handoffVersion)}">`,
    `<title>${esc(data.title)}</title>`,
    `<style>${CSS}</style></head><body><main>`,
    body.join('\n'),
    `<footer class="meta"><p>Metrics follow docs/metrics.md (GenAI-Perf and AIPerf definitions, numpy percentiles). Secrets (API keys, tokens, Authorization headers) are replaced by [redacted] in every export.</p></footer>`,
    // "<" escaped so that no string in the data can close the script element.
    `<script type="application/json" id="handoff-report-data">${JSON.stringify(machine).replace(/</g, '\\u003c')}</script>`,
    `<script>${SCRIPT}</script>`,
    '</main></body></html>',
    '',
  ].join('\n');
}

function runLabel(r: ReportRun): string {
  return r.run.name ?? r.run.deployment?.name ?? r.run.id;
}

function renderSummary(r: ReportRun): string {
  const p = sweepPoint(r);
  const parts: string[] = [];
  if (r.run.deployment) parts.push(`${r.run.deployment.mode} ${r.run.deployment.engine}${r.run.simulated ? ' (simulated)' : ''} deployment "${r.run.deployment.name}" on ${r.run.deployment.gpuCount} GPU${r.run.deployment.gpuCount === 1 ? '' : 's'}`);
  parts.push(describeWorkload(r.run.workload, r.metrics ? { scalars: r.metrics.scalars, distributions: r.metrics.distributions } : undefined));
  const figures: string[] = [];
  if (p.outputTokensPerS !== null) figures.push(`${fmtNumber(p.outputTokensPerS)} output tokens/s${p.outputTokensPerSPerGpu !== null ? ` (${fmtNumber(p.outputTokensPerSPerGpu)} per GPU)` : ''}`);
  if (p.ttftP50Ms !== null) figures.push(`TTFT p50 ${fmtNumber(p.ttftP50Ms)} ms, p99 ${fmtNumber(p.ttftP99Ms)} ms`);
  if (p.itlP50Ms !== null) figures.push(`ITL p50 ${fmtNumber(p.itlP50Ms)} ms`);
  if (p.ttftP50Ms === null && p.latencyP50Ms !== null) figures.push(`latency p50 ${fmtNumber(p.latencyP50Ms)} ms`);
  const errors = r.metrics?.scalars.errorCount;
  if (errors) figures.push(`${errors} failed request${errors === 1 ? '' : 's'}`);
  return `<h2>Summary</h2><div class="verdict" data-testid="summary">${esc(parts.join('; '))}${figures.length ? `: ${esc(figures.join(', '))}` : ''}.</div>`;
}

// ---------------------------------------------------------------- comparison

function deltaRows(metrics: readonly MetricDelta[]): string[] {
  return metrics.map(
    (m) =>
      `<tr${m.key ? ' class="key"' : ''}><td>${esc(m.label)}${m.key ? ' ★' : ''}</td><td>${esc(m.unit)}</td>${num(m.a, `${m.metric}.${m.stat}.a`)}${num(m.b, `${m.metric}.${m.stat}.b`)}${num(m.delta, `${m.metric}.${m.stat}.delta`)}<td class="n">${m.pctChange === null ? '—' : esc(formatPct(m.pctChange))}</td><td><span class="badge ${m.change}">${esc(m.change)}</span></td></tr>`,
  );
}

function renderComparison(data: ReportData): string {
  const c = data.comparison!;
  const v = c.verdict;
  const out: string[] = ['<h2>Verdict</h2>'];
  out.push(`<div class="verdict ${esc(v.outcome)}" data-testid="verdict" data-outcome="${esc(v.outcome)}">${esc(v.sentence)}</div>`);
  if (v.reasons.length) out.push(`<h4>Why</h4><ul>${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`);
  out.push(`<p><b>Workload:</b> ${esc(c.workload.summary)}</p>`);
  if (c.notes.length) out.push(`<ul>${c.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  const byId = new Map(data.runs.map((r) => [r.run.id, r]));
  if (c.kind === 'runs') {
    out.push(`<p>A = <code>${esc(c.a.id)}</code> (${esc(c.a.label)}${c.a.mode ? `, ${esc(c.a.mode)}` : ''}), B = <code>${esc(c.b.id)}</code> (${esc(c.b.label)}${c.b.mode ? `, ${esc(c.b.mode)}` : ''})${c.loadPoint ? ` at ${esc(c.loadPoint)}` : ''}. Changes are B relative to A; ★ marks the metrics the verdict is made of.</p>`);
    out.push(table(['metric', 'unit', 'A', 'B', 'B − A', 'change', ''], deltaRows(c.metrics), 'compare-table'));
    out.push(`<div class="charts">${compareRunCharts(c, byId.get(c.a.id), byId.get(c.b.id))}</div>`);
  } else {
    out.push(renderGroupComparison(c, data));
  }
  return out.join('\n');
}

function compareRunCharts(c: RunComparison, a: ReportRun | undefined, b: ReportRun | undefined): string {
  const charts: string[] = [];
  const pick = (metric: string, stat: string) => c.metrics.find((m) => m.metric === metric && m.stat === stat);
  const latency = [
    ['TTFT p50', 'ttftMs', 'p50'],
    ['TTFT p99', 'ttftMs', 'p99'],
    ['ITL p50', 'itlMs', 'p50'],
    ['ITL p99', 'itlMs', 'p99'],
    ['latency p50', 'requestLatencyMs', 'p50'],
    ['latency p99', 'requestLatencyMs', 'p99'],
  ] as const;
  charts.push(
    barChart({
      title: 'Latency, A against B',
      yLabel: 'ms',
      seriesLabels: [`A ${c.a.label}`, `B ${c.b.label}`],
      groups: latency.map(([label, m, s]) => ({ label, values: [pick(m, s)?.a ?? null, pick(m, s)?.b ?? null] })).filter((g) => g.values.some((x) => x !== null)),
      testId: 'chart-compare-latency',
    }),
  );
  charts.push(
    barChart({
      title: 'Throughput, A against B',
      yLabel: 'per second',
      seriesLabels: [`A ${c.a.label}`, `B ${c.b.label}`],
      groups: [
        ['output tokens/s', 'outputTokenThroughputPerS'],
        ['output tokens/s/GPU', 'outputTokensPerSPerGpu'],
        ['requests/s (×100)', 'requestThroughputPerS'],
      ]
        .map(([label, m]) => {
          const d = pick(m!, 'value');
          const f = m === 'requestThroughputPerS' ? 100 : 1;
          return { label: label!, values: [d?.a != null ? d.a * f : null, d?.b != null ? d.b * f : null] };
        })
        .filter((g) => g.values.some((x) => x !== null)),
      testId: 'chart-compare-throughput',
    }),
  );
  for (const [key, title] of [
    ['ttftMs', 'TTFT CDF, A against B'],
    ['itlMs', 'ITL CDF, A against B'],
  ] as const) {
    const series: XySeries[] = [];
    for (const [side, r] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const vals = columnValues(r, key);
      if (!vals.length) continue;
      const p = cdfPoints(vals);
      series.push({ label: `${side} ${r ? runLabel(r) : ''}`, x: p.x, y: p.y, mode: 'step' });
    }
    if (series.length) charts.push(xyChart({ title, xLabel: `${DISTRIBUTION_METRICS[key].label} (ms)`, yLabel: '% of requests', series, yFromZero: true, yMax: 100, testId: `chart-compare-cdf-${key}` }));
  }
  return charts.join('\n');
}

function renderGroupComparison(c: GroupComparison, data: ReportData): string {
  const out: string[] = [];
  out.push(`<p>A = sweep <code>${esc(c.a.id)}</code> (${esc(c.a.label)}), B = sweep <code>${esc(c.b.id)}</code> (${esc(c.b.label)}). Changes are B relative to A at each load point.</p>`);
  const rows = c.points.flatMap((p) =>
    p.metrics
      .filter((m) => m.key)
      .map(
        (m) =>
          `<tr><td>${esc(p.loadPoint ?? '')}</td><td>${esc(m.label)}</td>${num(m.a, `${p.loadPoint}.${m.metric}.${m.stat}.a`)}${num(m.b, `${p.loadPoint}.${m.metric}.${m.stat}.b`)}<td class="n">${m.pctChange === null ? '—' : esc(formatPct(m.pctChange))}</td><td><span class="badge ${m.change}">${esc(m.change)}</span></td></tr>`,
      ),
  );
  out.push(table(['load', 'metric', 'A', 'B', 'change', ''], rows, 'compare-table'));
  if (c.unmatched.length) out.push(`<p>Only in one sweep: ${c.unmatched.map((u) => `${esc(u.loadPoint)} (${u.side.toUpperCase()})`).join(', ')}.</p>`);
  const sides = data.sides ?? { a: [], b: [] };
  const runsOf = (ids: string[]) => data.runs.filter((r) => ids.includes(r.run.id));
  const groups = [
    { label: `A ${c.a.label}`, points: runsOf(sides.a).map(sweepPoint) },
    { label: `B ${c.b.label}`, points: runsOf(sides.b).map(sweepPoint) },
  ];
  out.push(`<div class="charts">${sweepCharts(groups)}</div>`);
  return out.join('\n');
}

// ---------------------------------------------------------------- sweeps

function renderSweep(runs: readonly ReportRun[], heading: string): string {
  const points = runs.map(sweepPoint);
  const rows = points.map(
    (p) =>
      `<tr><td>${esc(p.label)}</td><td><code>${esc(p.runId)}</code></td>${num(p.outputTokensPerS, `${p.runId}.outputTokenThroughputPerS`)}${num(p.outputTokensPerSPerGpu, `${p.runId}.outputTokensPerSPerGpu`)}${num(p.requestsPerS, `${p.runId}.requestThroughputPerS`)}${num(p.ttftP50Ms, `${p.runId}.ttftMs.p50`)}${num(p.ttftP99Ms, `${p.runId}.ttftMs.p99`)}${num(p.itlP50Ms, `${p.runId}.itlMs.p50`)}${num(p.tpsPerUserP50, `${p.runId}.tpsPerUser.p50`)}</tr>`,
  );
  const out = [`<h2>${esc(heading)}</h2>`];
  out.push(table(['load', 'run', 'output tok/s', 'tok/s/GPU', 'req/s', 'TTFT p50 ms', 'TTFT p99 ms', 'ITL p50 ms', 'tok/s/user p50'], rows, 'sweep-table'));
  if (points.some((p) => p.load !== null)) out.push(`<div class="charts">${sweepCharts([{ label: heading.toLowerCase(), points }])}</div>`);
  return out.join('\n');
}

function sweepCharts(groups: ReadonlyArray<{ label: string; points: SweepPoint[] }>): string {
  const charts: string[] = [];
  const kind = groups.flatMap((g) => g.points).find((p) => p.loadKind)?.loadKind ?? 'concurrency';
  const xLabel = kind === 'rate' ? 'request rate (requests/s)' : 'concurrency';
  const byLoad = (ps: SweepPoint[]) => ps.filter((p) => p.load !== null).sort((a, b) => a.load! - b.load!);
  const perGpu = groups.some((g) => g.points.some((p) => p.outputTokensPerSPerGpu !== null));
  const line = (label: string, ps: SweepPoint[], y: (p: SweepPoint) => number | null, dashed = false): XySeries => ({ label, x: ps.map((p) => p.load!), y: ps.map((p) => y(p) ?? NaN), mode: 'both', dashed });
  charts.push(
    xyChart({
      title: `Output throughput vs ${kind === 'rate' ? 'request rate' : 'concurrency'}`,
      xLabel,
      yLabel: perGpu ? 'output tokens/s per GPU' : 'output tokens/s',
      series: groups.map((g) => line(g.label, byLoad(g.points), (p) => (perGpu ? p.outputTokensPerSPerGpu : p.outputTokensPerS))),
      yFromZero: true,
      xFromZero: true,
      testId: 'chart-throughput-vs-load',
    }),
  );
  charts.push(
    xyChart({
      title: `Latency vs ${kind === 'rate' ? 'request rate' : 'concurrency'}`,
      xLabel,
      yLabel: 'ms',
      series: groups.flatMap((g) => {
        const ps = byLoad(g.points);
        const pre = groups.length > 1 ? `${g.label} ` : '';
        return [line(`${pre}TTFT p50`, ps, (p) => p.ttftP50Ms), line(`${pre}TTFT p99`, ps, (p) => p.ttftP99Ms, true), line(`${pre}ITL p50`, ps, (p) => p.itlP50Ms)];
      }),
      yFromZero: true,
      xFromZero: true,
      testId: 'chart-latency-vs-load',
    }),
  );
  const py = (p: SweepPoint) => (perGpu ? p.outputTokensPerSPerGpu : p.outputTokensPerS);
  const series: XySeries[] = [];
  for (const g of groups) {
    const ok = g.points.filter((p) => p.tpsPerUserP50 !== null && py(p) !== null);
    if (!ok.length) continue;
    series.push({ label: g.label, x: ok.map((p) => p.tpsPerUserP50!), y: ok.map((p) => py(p)!), mode: 'points', pointLabels: ok.map((p) => (p.load !== null ? String(p.load) : '')) });
    const front = paretoFrontier(ok, (p) => p.tpsPerUserP50, py);
    if (front.length > 1) series.push({ label: `${g.label} frontier`, x: front.map((p) => p.tpsPerUserP50!), y: front.map((p) => py(p)!), mode: 'line', dashed: true });
  }
  charts.push(
    xyChart({
      title: 'Pareto: throughput per GPU against speed per user',
      xLabel: 'output tokens/s per user (p50)',
      yLabel: perGpu ? 'output tokens/s per GPU' : 'output tokens/s',
      series,
      yFromZero: true,
      xFromZero: true,
      testId: 'chart-pareto',
    }),
  );
  return charts.join('\n');
}

// ---------------------------------------------------------------- one run

interface Columns {
  count: number;
  sendS: ArrayLike<number>;
  ttftMs: Float64Array;
  itlMs: Float64Array;
  latencyMs: Float64Array;
  failed: ArrayLike<number>;
}
const normalized = new WeakMap<object, Columns>();

/** The run's per-request columns with NaN where a value does not exist, converted once per run. */
function columnsOf(r: ReportRun | undefined): Columns | null {
  const c = r?.series?.requests;
  if (!c) return null;
  let d = normalized.get(c);
  if (!d) {
    const f = (xs: ReadonlyArray<number | null>) => Float64Array.from(xs, (v) => (v === null ? NaN : v));
    d = { count: c.count, sendS: c.sendS, ttftMs: f(c.ttftMs), itlMs: f(c.itlMs), latencyMs: f(c.latencyMs), failed: c.failed };
    normalized.set(c, d);
  }
  return d;
}

function columnValues(r: ReportRun | undefined, key: 'ttftMs' | 'itlMs' | 'requestLatencyMs'): number[] {
  const cols = columnsOf(r);
  if (!cols) return [];
  const col = key === 'requestLatencyMs' ? cols.latencyMs : key === 'ttftMs' ? cols.ttftMs : cols.itlMs;
  const out: number[] = [];
  for (let i = 0; i < col.length; i++) if (Number.isFinite(col[i]!)) out.push(col[i]!);
  return out;
}

function runCharts(r: ReportRun): string {
  const charts: string[] = [];
  const d = r.metrics?.distributions ?? {};
  const P = [1, 5, 10, 25, 50, 75, 90, 95, 99];
  const pctSeries: XySeries[] = [];
  for (const key of ['ttftMs', 'itlMs', 'requestLatencyMs'] as const) {
    const s = d[key];
    if (!s) continue;
    pctSeries.push({ label: DISTRIBUTION_METRICS[key].label, x: P, y: P.map((p) => s[`p${p}`] ?? NaN), mode: 'both' });
  }
  for (const s of pctSeries) {
    charts.push(xyChart({ title: `${s.label} percentiles`, xLabel: 'percentile', yLabel: 'ms', series: [s], yFromZero: true, testId: `chart-percentiles-${s.label}` }));
  }
  const cols = columnsOf(r);
  for (const [key, label] of [
    ['ttftMs', 'Time to first token'],
    ['itlMs', 'Inter-token latency'],
    ['requestLatencyMs', 'Request latency'],
  ] as const) {
    const vals = columnValues(r, key);
    if (!vals.length) continue;
    charts.push(histogramChart({ title: `${label}: distribution`, xLabel: `${label} (ms)`, values: vals, testId: `chart-hist-${key}` }));
    const p = cdfPoints(vals);
    charts.push(xyChart({ title: `${label}: CDF`, xLabel: `${label} (ms)`, yLabel: '% of requests', series: [{ label, x: p.x, y: p.y, mode: 'step' }], yFromZero: true, yMax: 100, testId: `chart-cdf-${key}` }));
  }
  if (cols && cols.count) {
    // A few thousand points at most (CONVENTIONS.md): every k-th request in send order.
    const idx = thin(
      Array.from({ length: cols.count }, (_, i) => i),
      2000,
    );
    const ttft = idx.filter((i) => Number.isFinite(cols.ttftMs[i]));
    const lat = idx.filter((i) => Number.isFinite(cols.latencyMs[i]));
    const series: XySeries[] = [];
    if (ttft.length) series.push({ label: 'TTFT', x: ttft.map((i) => cols.sendS[i]!), y: ttft.map((i) => cols.ttftMs[i]!), mode: 'points' });
    if (lat.length) series.push({ label: 'request latency', x: lat.map((i) => cols.sendS[i]!), y: lat.map((i) => cols.latencyMs[i]!), mode: 'points' });
    if (series.length) charts.push(xyChart({ title: 'Latency over the run (by send time)', xLabel: 'seconds since the first request', yLabel: 'ms', series, yFromZero: true, testId: 'chart-latency-over-time' }));
    // Completions per second over the run: the throughput time series.
    const done: number[] = [];
    for (let i = 0; i < cols.count; i++) if (Number.isFinite(cols.latencyMs[i]) && !cols.failed[i]) done.push(cols.sendS[i]! + cols.latencyMs[i]! / 1000);
    if (done.length > 1) {
      const end = Math.max(...done);
      const bin = Math.max(end / 60, 0.001);
      const counts = new Array<number>(Math.ceil(end / bin) + 1).fill(0);
      for (const t of done) counts[Math.floor(t / bin)]!++;
      charts.push(xyChart({ title: 'Completed requests per second', xLabel: 'seconds since the first request', yLabel: 'requests/s', series: [{ label: 'completed', x: counts.map((_, i) => (i + 0.5) * bin), y: counts.map((n) => n / bin), mode: 'line' }], yFromZero: true, testId: 'chart-completions' }));
    }
  }
  for (const ts of r.series?.timeSeries ?? []) {
    charts.push(
      xyChart({
        title: ts.title,
        xLabel: 'seconds since the run started',
        yLabel: ts.unit,
        series: ts.lines.map((l) => ({ label: l.label, x: thin(l.tS, 1500), y: thin(l.v, 1500), mode: 'line' as const })),
        yFromZero: true,
        testId: `chart-ts-${ts.id}`,
      }),
    );
  }
  const kv = r.series?.kvTransfer ?? [];
  if (kv.length) {
    const fabric = fabricLineOf(r);
    charts.push(
      xyChart({
        title: 'KV-transfer latency per block',
        xLabel: 'seconds since the run started',
        yLabel: 'ms per block',
        series: kv.map((k) => ({ label: k.source, x: k.intervals.map((i) => i.tS), y: k.intervals.map((i) => i.msPerBlock), mode: 'both' as const })),
        refLines: fabric ? [{ value: fabric.msPerBlock, label: `${fabric.label ?? 'fabric'} ${fmtNumber(fabric.msPerBlock)} ms` }] : [],
        yFromZero: true,
        testId: 'chart-kv-per-block',
      }),
    );
  }
  return charts.join('\n');
}

/** The run view's reference line: a matching stored kvprobe result, else the figure runs.series carries. */
function fabricLineOf(r: ReportRun): { msPerBlock: number; source: string; label?: string } | null {
  return r.fabricLine !== undefined ? r.fabricLine : (r.series?.fabric ?? null);
}

const WORKLOAD_FIELDS: ReadonlyArray<[keyof Workload, string]> = [
  ['endpointType', 'endpoint'],
  ['streaming', 'streaming'],
  ['model', 'model'],
  ['tokenizer', 'tokenizer'],
  ['concurrency', 'concurrency'],
  ['requestRate', 'request rate (requests/s)'],
  ['arrival', 'arrival pattern'],
  ['requestCount', 'requests'],
  ['warmupRequestCount', 'warmup requests'],
  ['durationS', 'duration (s)'],
  ['islMean', 'ISL mean (tokens)'],
  ['islStddev', 'ISL stddev'],
  ['oslMean', 'OSL mean (tokens)'],
  ['oslStddev', 'OSL stddev'],
  ['randomSeed', 'random seed'],
  ['goodput', 'goodput SLOs'],
];

function cell(v: unknown, key: string): string {
  if (v === null || v === undefined) return `<td data-k="${esc(key)}">—</td>`;
  if (typeof v === 'number') return num(v, key);
  if (typeof v === 'boolean') return `<td data-k="${esc(key)}" data-value="${v}">${v ? 'yes' : 'no'}</td>`;
  if (typeof v === 'string') return `<td data-k="${esc(key)}" data-value="${esc(v)}">${esc(v)}</td>`;
  return `<td data-k="${esc(key)}">${esc(Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}:${String(x)}`).join(' '))}</td>`;
}

function renderRun(r: ReportRun, data: ReportData): string {
  const run = r.run;
  const id = run.id;
  const out: string[] = [];
  const side = data.sides ? (data.sides.a.includes(id) ? 'A · ' : data.sides.b.includes(id) ? 'B · ' : '') : '';
  out.push(`<section class="run" data-run-id="${esc(id)}" data-testid="run-${esc(id)}">`);
  out.push(`<h2>${esc(side + runLabel(r))}</h2>`);
  out.push(
    `<div class="meta"><code>${esc(id)}</code> <span class="badge">${esc(run.status)}</span><span class="badge">${esc(run.tool.name)}${run.tool.version ? ` ${esc(run.tool.version)}` : ''}</span>${run.simulated ? '<span class="badge sim">simulated engine</span>' : ''}${run.imported ? '<span class="badge">imported</span>' : ''}${run.group ? ` sweep <code>${esc(run.group)}</code>` : ''}${loadPointOf(run.workload) ? ` · ${esc(loadPointOf(run.workload)!)}` : ''}</div>`,
  );
  if (run.simulated) out.push(`<div class="banner" data-testid="simulated-banner-run">Simulated engine (mocker): this run's figures come from a latency model, not from GPUs.</div>`);
  if (data.kind !== 'runs' || data.runs.length > 1) out.push(renderSummary(r).replace('<h2>Summary</h2>', '<h3>Summary</h3>'));

  out.push('<h3>Key figures</h3>');
  const gpus = run.deployment?.gpuCount || null;
  const scalars = scalarRows(r.metrics, gpus);
  if (!scalars.length) out.push('<p>No figures: the run recorded no requests.</p>');
  else {
    out.push(table(['figure', 'value', 'unit'], scalars.map((s) => `<tr><td>${esc(s.label)}</td>${num(s.value, `${id}.${s.key}`)}<td>${esc(s.unit)}</td></tr>`), `kpi-${id}`));
    if (r.metricsSource) out.push(`<p class="meta">Computed from ${r.metricsSource === 'records' ? 'the per-request records (requests.jsonl)' : r.metricsSource === 'summary' ? 'the per-request records when the run ended (summary.json)' : "the tool's own aggregates (no per-request records)"}.</p>`);
  }
  const dist = distributionRows(r.metrics);
  if (dist.length) {
    const stats = ['avg', 'min', 'p50', 'p90', 'p95', 'p99', 'max', 'std'];
    out.push(
      table(
        ['metric', 'unit', ...stats, 'count'],
        dist.map((d) => `<tr><td>${esc(d.label)}</td><td>${esc(d.unit)}</td>${stats.map((s) => num(d.stats[s], `${id}.${d.key}.${s}`)).join('')}${num(d.stats.count, `${id}.${d.key}.count`)}</tr>`),
        `dist-${id}`,
      ),
    );
  }
  const kv = r.series?.kvTransfer ?? [];
  if (kv.length) {
    out.push('<h4>KV transfer per block</h4>');
    out.push(
      table(
        ['source', 'bytes per block', 'ms per block (whole run)', 'blocks', 'intervals'],
        kv.map((k) => `<tr><td>${esc(k.source)}</td>${num(k.bytesPerBlock, `${id}.kv.${k.source}.bytesPerBlock`)}${num(k.runMsPerBlock, `${id}.kv.${k.source}.msPerBlock`)}${num(k.blocks, `${id}.kv.${k.source}.blocks`)}${num(k.intervals.length, `${id}.kv.${k.source}.intervals`)}</tr>`),
      ),
    );
    const fabric = fabricLineOf(r);
    if (fabric) out.push(`<p class="meta" data-testid="fabric-reference-${esc(id)}" data-ms-per-block="${fabric.msPerBlock}">Reference: ${esc(fabric.source)} = ${esc(fmtNumber(fabric.msPerBlock))} ms per block.</p>`);
  }
  const nixl = nixlTelemetryHtml(r, num);
  out.push(nixl.html);
  const charts = runCharts(r);
  if (charts) out.push(`<h3>Charts</h3><div class="charts">${charts}</div>`);
  if (nixl.charts.length) out.push(`<div class="charts" data-testid="nixl-charts-${esc(id)}">${nixl.charts.join('\n')}</div>`);
  const wf = waterfallHtml(r, num);
  if (wf.html) out.push(`<section data-testid="waterfall-${esc(id)}">${wf.html}${wf.charts.length ? `<div class="charts">${wf.charts.join('\n')}</div>` : ''}</section>`);

  out.push('<h3>Workload</h3>');
  out.push(table(['setting', 'value'], WORKLOAD_FIELDS.map(([k, label]) => `<tr><td>${esc(label)}</td>${cell(run.workload[k], `${id}.workload.${k}`)}</tr>`), `workload-${id}`));

  out.push('<h3>Benchmark command</h3>');
  out.push(pre(r.benchCommand));
  if (run.tool.argv?.length && run.tool.name !== 'builtin') out.push(`<p class="meta">The tool's argv as it ran on the host is above; Handoff started it with no shell.</p>`);

  out.push('<h3>Deployment</h3>');
  if (run.deployment) {
    const dpl = run.deployment;
    out.push(
      table(
        ['name', 'mode', 'engine', 'model', 'GPUs'],
        [`<tr>${cell(dpl.name, `${id}.deployment.name`)}${cell(dpl.mode, `${id}.deployment.mode`)}<td data-k="${esc(id)}.deployment.engine" data-value="${esc(dpl.engine)}">${esc(dpl.engine)}${dpl.engine === 'mocker' ? ' (simulated)' : ''}</td>${cell(dpl.model ?? null, `${id}.deployment.model`)}${num(dpl.gpuCount, `${id}.deployment.gpuCount`)}</tr>`],
        `deployment-${id}`,
      ),
    );
  } else out.push('<p>No deployment recorded (an imported run).</p>');
  if (run.spec !== undefined && run.spec !== null) {
    out.push('<h4>Deployment spec</h4>');
    out.push(pre(YAML.stringify(run.spec, { lineWidth: 0 }).trimEnd(), 'spec'));
  }
  if (r.processes?.length) {
    out.push('<h4>Commands</h4><p class="meta">Each process as Handoff started it (argv, no shell), shell-quoted so it can be pasted.</p>');
    for (const p of r.processes) {
      out.push(`<p><b>${esc(p.name)}</b> · ${esc(p.role)} on ${esc(p.host)}${p.gpuIds.length ? ` · GPU ${esc(p.gpuIds.join(','))}` : ''}${p.tp > 1 ? ` · TP ${p.tp}` : ''}</p>`);
      out.push(pre(p.command));
    }
  } else if (r.processesNote) out.push(`<p class="meta">${esc(r.processesNote)}</p>`);

  out.push('<h3>Hosts</h3>');
  if (run.hosts.length) {
    const rows = run.hosts.map(
      (h) =>
        `<tr><td>${esc(h.name)}</td><td>${esc(h.hostname ?? '—')}</td><td>${h.gpus?.length ? esc(h.gpus.map((g) => `${g.index}: ${g.name}${g.memoryTotalMiB ? ` (${Math.round(g.memoryTotalMiB / 1024)} GiB)` : ''}`).join(', ')) : '—'}</td><td>${esc(h.driverVersion ?? '—')}</td><td>${esc(h.cudaVersion ?? '—')}</td></tr>`,
    );
    out.push(table(['host', 'hostname', 'GPUs', 'driver', 'CUDA'], rows, `hosts-${id}`));
  } else out.push('<p>No host facts recorded.</p>');
  out.push('<h4>Versions recorded with the run</h4>');
  const versions = Object.entries(run.versions);
  if (run.tool.version && !versions.some(([k]) => k === run.tool.name)) versions.push([run.tool.name, run.tool.version]);
  out.push(versions.length ? table(['component', 'version'], versions.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`), `versions-${id}`) : '<p>None recorded.</p>');
  for (const h of r.hostsNow) {
    out.push(`<h4>${esc(h.name)} as of its last check (${esc(h.collectedAt)})</h4>`);
    out.push(`<p class="meta">From the host check, not from the run itself: the host may have changed since the run.</p>`);
    const facts: string[] = [];
    if (h.gpus.length) facts.push(`<tr><td>GPUs</td><td>${esc(h.gpus.map((g) => `${g.index}: ${g.name}`).join(', '))}</td></tr>`);
    facts.push(`<tr><td>driver / CUDA</td><td>${esc(h.driverVersion ?? '—')} / ${esc(h.cudaVersion ?? '—')}</td></tr>`);
    for (const [k, v] of Object.entries(h.versions)) facts.push(`<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`);
    out.push(table(['fact', 'value'], facts));
    if (h.topology) out.push(pre(h.topology, 'topo'));
  }

  out.push('<h3>Timings</h3>');
  out.push(table(['created', 'started', 'finished'], [`<tr><td>${esc(run.timings.createdAt)}</td><td>${esc(run.timings.startedAt ?? '—')}</td><td>${esc(run.timings.finishedAt ?? '—')}</td></tr>`]));
  if (r.importInfo) {
    const i = r.importInfo;
    out.push('<h3>Import</h3>');
    out.push(`<p>Imported from ${esc(i.sources.join(', '))} (${esc(i.tool)}${i.toolVersion ? ` ${esc(i.toolVersion)}` : ''}); ${i.recordCount} per-request records; ${i.comparedCount} reported figures compared, ${i.disagreements.length} differ.</p>`);
    if (i.disagreements.length) {
      out.push(table(['metric', 'stat', 'reported', 'recomputed', 'difference'], i.disagreements.map((x) => `<tr><td>${esc(x.metric)}</td><td>${esc(x.stat)}</td>${num(x.reported, `${id}.import.${x.metric}.${x.stat}.reported`)}${num(x.recomputed, `${id}.import.${x.metric}.${x.stat}.recomputed`)}<td class="n">${x.relDiff === null ? '—' : esc(formatPct(x.relDiff * 100))}</td></tr>`)));
    }
  }
  if (run.notes.length) out.push(`<h3>Notes</h3><ul>${run.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  out.push('</section>');
  return out.join('\n');
}
