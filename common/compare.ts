import { z } from 'zod';
import { DISTRIBUTION_METRICS, SCALAR_METRICS, type DistributionMetricKey, type ScalarMetricKey } from './metrics/metric-keys';
import type { Workload } from './run-record';

/**
 * Comparing two benchmark runs (or two sweeps) and the verdict sentence for aggregated vs
 * disaggregated serving. Pure functions over stored metrics; the rules are stated in
 * docs/metrics.md §10 and encoded in NOISE and KEY_METRICS below.
 */

// ---------------------------------------------------------------- rules

/**
 * Changes smaller than these are noise, not a difference. Benchmarks of a few dozen requests move
 * by a few percent between identical runs; tails (p90…p99) rest on a handful of requests, so they
 * get a wider band.
 */
export const NOISE = {
  /** Throughputs, averages and medians: relative change that counts. */
  centralRel: 0.05,
  /** p90, p95, p99 and max. */
  tailRel: 0.1,
  /** Latency differences below this are timer and scheduling jitter whatever their percentage. */
  latencyAbsMs: 0.5,
  /** Failed-request share (errors ÷ all requests): absolute difference that counts. */
  errorRateAbs: 0.01,
  /** Measured mean ISL or OSL may differ this much before the workloads count as different. */
  lengthRel: 0.05,
} as const;

export type StatName = 'value' | 'avg' | 'p50' | 'p90' | 'p99' | 'min' | 'max' | 'p1' | 'p5' | 'p10' | 'p25' | 'p75' | 'p95' | 'std';

/** Metrics the verdict is made of, in the order the sentence names them. */
export const KEY_METRICS: ReadonlyArray<{ metric: string; stat: StatName; short: string; headline: boolean }> = [
  { metric: 'outputTokensPerSPerGpu', stat: 'value', short: 'output tokens/s/GPU', headline: true },
  { metric: 'ttftMs', stat: 'p99', short: 'TTFT p99', headline: true },
  { metric: 'itlMs', stat: 'p50', short: 'ITL p50', headline: true },
  { metric: 'ttftMs', stat: 'p50', short: 'TTFT p50', headline: false },
  { metric: 'itlMs', stat: 'p99', short: 'ITL p99', headline: false },
  { metric: 'errorRate', stat: 'value', short: 'failed requests', headline: false },
];
/** Without streaming there is no TTFT or ITL: request latency stands in for both. */
const NON_STREAMING_KEYS: ReadonlyArray<{ metric: string; stat: StatName; short: string; headline: boolean }> = [
  { metric: 'outputTokensPerSPerGpu', stat: 'value', short: 'output tokens/s/GPU', headline: true },
  { metric: 'requestLatencyMs', stat: 'p99', short: 'latency p99', headline: true },
  { metric: 'requestLatencyMs', stat: 'p50', short: 'latency p50', headline: true },
  { metric: 'errorRate', stat: 'value', short: 'failed requests', headline: false },
];

// ---------------------------------------------------------------- inputs

export type ComparableStats = Partial<Record<Exclude<StatName, 'value'> | 'count' | 'sum', number>>;

/** RunMetrics, or a tool's reported aggregates (which may lack some statistics). */
export interface ComparableMetrics {
  scalars: Partial<Record<ScalarMetricKey, number>>;
  distributions: Partial<Record<DistributionMetricKey, ComparableStats>>;
}

export interface ComparableRun {
  id: string;
  /** How the run is named in sentences: its name, else its deployment's name, else its id. */
  label: string;
  group?: string | null;
  mode: 'aggregated' | 'disaggregated' | null;
  /** GPUs of the deployment; null when unknown (imported runs): tokens/s/GPU is then not computed. */
  gpuCount: number | null;
  simulated: boolean;
  tool: string;
  workload: Workload;
  metrics: ComparableMetrics;
}

// ---------------------------------------------------------------- results

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const WorkloadDifference = z.object({
  field: z.string(),
  label: z.string(),
  a: Scalar,
  b: Scalar,
  /** A blocking difference makes the runs not comparable; others are listed as caveats. */
  blocking: z.boolean(),
});
export type WorkloadDifference = z.infer<typeof WorkloadDifference>;

export const WorkloadCheck = z.object({
  /** No blocking difference. */
  same: z.boolean(),
  /** One line: the shared workload, or what differs. */
  summary: z.string(),
  differences: z.array(WorkloadDifference),
});
export type WorkloadCheck = z.infer<typeof WorkloadCheck>;

export const Change = z.enum(['better', 'worse', 'same', 'n/a']);
export type Change = z.infer<typeof Change>;

export const MetricDelta = z.object({
  metric: z.string(),
  stat: z.string(),
  label: z.string(),
  unit: z.string(),
  better: z.enum(['higher', 'lower', 'neither']),
  a: z.number().nullable(),
  b: z.number().nullable(),
  /** b − a */
  delta: z.number().nullable(),
  /** (b − a) ÷ |a| × 100; null when a is 0 or either is missing. */
  pctChange: z.number().nullable(),
  /** B relative to A after the noise thresholds; `n/a` for metrics with no better direction. */
  change: Change,
  /** Part of the verdict. */
  key: z.boolean(),
});
export type MetricDelta = z.infer<typeof MetricDelta>;

export const VerdictOutcome = z.enum(['better', 'worse', 'mixed', 'no-significant-difference', 'not-comparable']);
export type VerdictOutcome = z.infer<typeof VerdictOutcome>;

export const Verdict = z.object({
  /** For the subject relative to the baseline. */
  outcome: VerdictOutcome,
  /** `disaggregated` when one side is aggregated and the other disaggregated, else B's label. */
  subject: z.string(),
  baseline: z.string(),
  /** True when the subject is A (the disaggregated run was given first): its numbers are A relative to B. */
  swapped: z.boolean(),
  sentence: z.string(),
  /** The rule that decided, one line per key metric. */
  reasons: z.array(z.string()),
  simulated: z.boolean(),
});
export type Verdict = z.infer<typeof Verdict>;

export const ComparedRun = z.object({
  id: z.string(),
  label: z.string(),
  group: z.string().nullable(),
  mode: z.enum(['aggregated', 'disaggregated']).nullable(),
  gpuCount: z.number().nullable(),
  simulated: z.boolean(),
  tool: z.string(),
});
export type ComparedRun = z.infer<typeof ComparedRun>;

export const RunComparison = z.object({
  kind: z.literal('runs'),
  a: ComparedRun,
  b: ComparedRun,
  /** `concurrency 10`, `5 requests/s`, or null when the load is not known. */
  loadPoint: z.string().nullable(),
  workload: WorkloadCheck,
  metrics: z.array(MetricDelta),
  verdict: Verdict,
  notes: z.array(z.string()),
});
export type RunComparison = z.infer<typeof RunComparison>;

export const GroupComparison = z.object({
  kind: z.literal('groups'),
  a: z.object({ id: z.string(), label: z.string(), runs: z.array(ComparedRun) }),
  b: z.object({ id: z.string(), label: z.string(), runs: z.array(ComparedRun) }),
  /** One comparison per load point present in both groups, in load order. */
  points: z.array(RunComparison),
  /** Load points only one group has. */
  unmatched: z.array(z.object({ loadPoint: z.string(), side: z.enum(['a', 'b']), runId: z.string() })),
  workload: WorkloadCheck,
  verdict: Verdict,
  notes: z.array(z.string()),
});
export type GroupComparison = z.infer<typeof GroupComparison>;

export const Comparison = z.discriminatedUnion('kind', [RunComparison, GroupComparison]);
export type Comparison = z.infer<typeof Comparison>;

// ---------------------------------------------------------------- formatting

const MINUS = '\u2212';

/** `+34%`, `−41%`, `+0.4%`: whole percent from 1 % up, one decimal below. */
export function formatPct(pct: number): string {
  const abs = Math.abs(pct);
  const digits = abs >= 0.95 || abs === 0 ? 0 : 1;
  const txt = abs.toFixed(digits);
  if (Number(txt) === 0) return '0%';
  return `${pct < 0 ? MINUS : '+'}${txt}%`;
}

function fmtValue(v: unknown): string | number | boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

function show(v: string | number | boolean | null): string {
  if (v === null) return 'not recorded';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  return v;
}

/** `concurrency 10`, `5 requests/s (poisson)`, or null. */
export function loadPointOf(w: Workload): string | null {
  if (w.requestRate != null) return `${trimNum(w.requestRate)} requests/s${w.concurrency != null ? ` (at most ${w.concurrency} in flight)` : ''}`;
  if (w.concurrency != null) return `concurrency ${w.concurrency}`;
  return null;
}

function trimNum(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

/** A numeric key to sort and pair load points: request rate wins over concurrency. */
function loadKey(w: Workload): { kind: 'rate' | 'concurrency'; value: number } | null {
  if (w.requestRate != null) return { kind: 'rate', value: w.requestRate };
  if (w.concurrency != null) return { kind: 'concurrency', value: w.concurrency };
  return null;
}

// ---------------------------------------------------------------- workload check

const BLOCKING_FIELDS: ReadonlyArray<[keyof Workload, string]> = [
  ['endpointType', 'endpoint'],
  ['streaming', 'streaming'],
  ['model', 'model'],
  ['concurrency', 'concurrency'],
  ['requestRate', 'request rate'],
  ['arrival', 'arrival pattern'],
  ['islMean', 'ISL mean'],
  ['islStddev', 'ISL stddev'],
  ['oslMean', 'OSL mean'],
  ['oslStddev', 'OSL stddev'],
];
const MINOR_FIELDS: ReadonlyArray<[keyof Workload, string]> = [
  ['requestCount', 'requests'],
  ['warmupRequestCount', 'warmup requests'],
  ['durationS', 'duration (s)'],
  ['randomSeed', 'random seed'],
  ['tokenizer', 'tokenizer'],
  ['goodput', 'goodput SLOs'],
];

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Checks two runs ran the same load. Blocking: a different endpoint, streaming, model, concurrency,
 * rate, arrival, or ISL/OSL settings, or measured mean ISL/OSL more than NOISE.lengthRel apart (an
 * engine that stopped early, a tokenizer that differs). A setting recorded on one side only, the
 * request count, warmup, seed, tokenizer, SLOs and the tool are listed but do not block.
 */
export function checkWorkloads(a: ComparableRun, b: ComparableRun, opts: { ignoreLoad?: boolean } = {}): WorkloadCheck {
  const differences: WorkloadDifference[] = [];
  const wa = a.workload;
  const wb = b.workload;
  for (const [field, label] of BLOCKING_FIELDS) {
    if (opts.ignoreLoad && (field === 'concurrency' || field === 'requestRate')) continue;
    const va = wa[field];
    const vb = wb[field];
    if (va == null && vb == null) continue;
    if (sameValue(va, vb)) continue;
    // Known on one side only (an import that did not record it): a caveat, not a verdict blocker.
    differences.push({ field, label, a: fmtValue(va), b: fmtValue(vb), blocking: va != null && vb != null });
  }
  for (const [field, label] of MINOR_FIELDS) {
    const va = wa[field];
    const vb = wb[field];
    if (va == null && vb == null) continue;
    if (!sameValue(va, vb)) differences.push({ field, label, a: fmtValue(va), b: fmtValue(vb), blocking: false });
  }
  if (a.tool !== b.tool) differences.push({ field: 'tool', label: 'tool', a: a.tool, b: b.tool, blocking: false });
  for (const [k, label] of [['isl', 'measured mean ISL'], ['osl', 'measured mean OSL']] as const) {
    const ma = a.metrics.distributions[k]?.avg;
    const mb = b.metrics.distributions[k]?.avg;
    if (ma === undefined || mb === undefined) continue;
    const rel = Math.abs(mb - ma) / Math.max(Math.abs(ma), Math.abs(mb), 1e-12);
    if (rel > NOISE.lengthRel) differences.push({ field: `measured.${k}`, label, a: round2(ma), b: round2(mb), blocking: true });
  }
  const blocking = differences.filter((d) => d.blocking);
  const summary = blocking.length
    ? `different workloads: ${blocking.map((d) => `${d.label} ${show(d.a)} vs ${show(d.b)}`).join(', ')}`
    : `same workload: ${describeWorkload(wa, a.metrics)}${differences.length ? ` (also differs: ${differences.map((d) => `${d.label} ${show(d.a)} vs ${show(d.b)}`).join(', ')})` : ''}`;
  return { same: blocking.length === 0, summary, differences };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** `chat, streaming, ISL 3000±0, OSL 150±0, concurrency 10, 40 requests`. */
export function describeWorkload(w: Workload, m?: ComparableMetrics): string {
  const parts: string[] = [];
  if (w.endpointType) parts.push(w.endpointType);
  if (w.streaming != null) parts.push(w.streaming ? 'streaming' : 'not streaming');
  const isl = w.islMean ?? m?.distributions.isl?.avg;
  const osl = w.oslMean ?? m?.distributions.osl?.avg;
  if (isl != null) parts.push(`ISL ${trimNum(round2(isl))}${w.islStddev != null ? `±${trimNum(w.islStddev)}` : ''}`);
  if (osl != null) parts.push(`OSL ${trimNum(round2(osl))}${w.oslStddev != null ? `±${trimNum(w.oslStddev)}` : ''}`);
  const lp = loadPointOf(w);
  if (lp) parts.push(lp);
  if (w.requestCount != null) parts.push(`${w.requestCount} requests`);
  else if (w.durationS != null) parts.push(`${trimNum(w.durationS)} s`);
  return parts.length ? parts.join(', ') : 'not recorded';
}

// ---------------------------------------------------------------- metric deltas

interface Row {
  metric: string;
  stat: StatName;
  label: string;
  unit: string;
  better: 'higher' | 'lower' | 'neither';
}

const DIST_ROWS: ReadonlyArray<[DistributionMetricKey, StatName[]]> = [
  ['ttftMs', ['avg', 'p50', 'p90', 'p99']],
  ['itlMs', ['avg', 'p50', 'p90', 'p99']],
  ['requestLatencyMs', ['avg', 'p50', 'p90', 'p99']],
  ['tpsPerUser', ['avg', 'p50']],
  ['ttstMs', ['p50', 'p99']],
  ['isl', ['avg']],
  ['osl', ['avg']],
];

function rows(): Row[] {
  const out: Row[] = [
    { metric: 'outputTokensPerSPerGpu', stat: 'value', label: 'Output tokens/s per GPU', unit: 'tokens/sec/GPU', better: 'higher' },
  ];
  for (const k of ['outputTokenThroughputPerS', 'requestThroughputPerS', 'goodputPerS'] as const) {
    const info = SCALAR_METRICS[k];
    out.push({ metric: k, stat: 'value', label: info.label, unit: info.unit, better: info.better });
  }
  out.push({ metric: 'errorRate', stat: 'value', label: 'Failed requests', unit: '%', better: 'lower' });
  for (const [k, stats] of DIST_ROWS) {
    const info = DISTRIBUTION_METRICS[k];
    for (const s of stats) out.push({ metric: k, stat: s, label: `${info.label} ${s}`, unit: info.unit, better: info.better });
  }
  for (const k of ['requestCount', 'benchmarkDurationS'] as const) {
    const info = SCALAR_METRICS[k];
    out.push({ metric: k, stat: 'value', label: info.label, unit: info.unit, better: 'neither' });
  }
  return out;
}
const ROWS = rows();

/** Share of failed requests in percent, or undefined when the run has no counts. */
function errorRatePct(m: ComparableMetrics): number | undefined {
  const ok = m.scalars.requestCount;
  const bad = m.scalars.errorCount;
  if (ok === undefined && bad === undefined) return undefined;
  const total = (ok ?? 0) + (bad ?? 0);
  return total > 0 ? (100 * (bad ?? 0)) / total : undefined;
}

function valueOf(run: ComparableRun, row: Pick<Row, 'metric' | 'stat'>): number | null {
  const m = run.metrics;
  let v: number | undefined;
  if (row.metric === 'outputTokensPerSPerGpu') {
    const t = m.scalars.outputTokenThroughputPerS;
    v = t !== undefined && run.gpuCount ? t / run.gpuCount : undefined;
  } else if (row.metric === 'errorRate') v = errorRatePct(m);
  else if (row.metric in SCALAR_METRICS) v = m.scalars[row.metric as ScalarMetricKey];
  else v = m.distributions[row.metric as DistributionMetricKey]?.[row.stat as Exclude<StatName, 'value'>];
  return v === undefined || !Number.isFinite(v) ? null : v;
}

const TAIL_STATS = new Set<StatName>(['p90', 'p95', 'p99', 'max']);

/**
 * B relative to A. A change is significant when it exceeds the relative band (NOISE.centralRel,
 * or NOISE.tailRel for p90…max) and, for latencies, NOISE.latencyAbsMs; the failed-request share
 * when it moves by more than NOISE.errorRateAbs. Then the metric's direction says better or worse.
 */
export function classifyChange(row: Pick<Row, 'metric' | 'stat' | 'unit' | 'better'>, a: number | null, b: number | null): Change {
  if (row.better === 'neither' || a === null || b === null) return 'n/a';
  const d = b - a;
  let significant: boolean;
  if (row.metric === 'errorRate') significant = Math.abs(d) > NOISE.errorRateAbs * 100;
  else {
    const band = TAIL_STATS.has(row.stat) ? NOISE.tailRel : NOISE.centralRel;
    const scale = Math.abs(a);
    significant = scale === 0 ? d !== 0 : Math.abs(d) / scale > band;
    if (row.unit === 'ms' && Math.abs(d) < NOISE.latencyAbsMs) significant = false;
  }
  if (!significant) return 'same';
  return (d > 0) === (row.better === 'higher') ? 'better' : 'worse';
}

function deltas(a: ComparableRun, b: ComparableRun, keys: ReadonlyArray<{ metric: string; stat: StatName }>): MetricDelta[] {
  const isKey = (r: Row) => keys.some((k) => k.metric === r.metric && k.stat === r.stat);
  const out: MetricDelta[] = [];
  for (const r of ROWS) {
    const va = valueOf(a, r);
    const vb = valueOf(b, r);
    if (va === null && vb === null) continue;
    const delta = va !== null && vb !== null ? vb - va : null;
    const pctChange = delta !== null && va !== 0 && va !== null ? (100 * delta) / Math.abs(va) : null;
    out.push({ ...r, a: va, b: vb, delta, pctChange, change: classifyChange(r, va, vb), key: isKey(r) });
  }
  return out;
}

// ---------------------------------------------------------------- verdict

function combine(changes: Change[]): Exclude<VerdictOutcome, 'not-comparable'> {
  const better = changes.includes('better');
  const worse = changes.includes('worse');
  if (better && worse) return 'mixed';
  if (better) return 'better';
  if (worse) return 'worse';
  return 'no-significant-difference';
}

function orientation(a: ComparableRun, b: ComparableRun): { subject: string; baseline: string; swapped: boolean } {
  if (a.mode && b.mode && a.mode !== b.mode) {
    const swapped = a.mode === 'disaggregated';
    return { subject: 'disaggregated', baseline: 'aggregated', swapped };
  }
  return { subject: b.label, baseline: a.label, swapped: false };
}

interface KeyResult {
  short: string;
  headline: boolean;
  change: Change;
  pct: number | null;
  /** For the failed-request share: `5.0% vs 0.0%`. */
  text: string;
}

type KeySpec = { metric: string; stat: StatName; short: string; headline: boolean };

/** The verdict's metrics for this pair: per GPU when both GPU counts are known, else plain tokens/s. */
function effectiveKeys(a: ComparableRun, b: ComparableRun): KeySpec[] {
  const keys = streamingOf(a, b) ? KEY_METRICS : NON_STREAMING_KEYS;
  const noGpus = !a.gpuCount || !b.gpuCount;
  return keys.map((k) => (k.metric === 'outputTokensPerSPerGpu' && noGpus ? { ...k, metric: 'outputTokenThroughputPerS', short: 'output tokens/s' } : k));
}

function keyResults(subject: ComparableRun, baseline: ComparableRun): KeyResult[] {
  const out: KeyResult[] = [];
  for (const { metric, stat, short, headline } of effectiveKeys(subject, baseline)) {
    const row = ROWS.find((r) => r.metric === metric && r.stat === stat)!;
    const vb = valueOf(baseline, row);
    const vs = valueOf(subject, row);
    if (vb === null || vs === null) continue;
    const change = classifyChange(row, vb, vs);
    const pct = vb !== 0 ? (100 * (vs - vb)) / Math.abs(vb) : null;
    const text =
      metric === 'errorRate'
        ? `${short} ${vs.toFixed(1)}% vs ${vb.toFixed(1)}%`
        : pct === null
          ? `${short} ${trimNum(round2(vs))} vs ${trimNum(round2(vb))}`
          : `${short} ${formatPct(pct)}`;
    out.push({ short, headline, change, pct, text });
  }
  return out;
}

const OUTCOME_PHRASE: Record<Exclude<VerdictOutcome, 'not-comparable' | 'mixed'>, string> = {
  better: 'better for this workload',
  worse: 'worse for this workload',
  'no-significant-difference': 'no significant difference for this workload',
};

function streamingOf(a: ComparableRun, b: ComparableRun): boolean {
  const s = a.workload.streaming ?? b.workload.streaming;
  if (s != null) return s;
  return a.metrics.distributions.ttftMs !== undefined && b.metrics.distributions.ttftMs !== undefined;
}

function simulatedSuffix(sim: boolean): string {
  return sim ? ' (simulated: mocker engine)' : '';
}

function noRequestsReason(r: ComparableRun): string | null {
  const n = r.metrics.scalars.requestCount;
  return n === 0 ? `${r.label} has no successful requests` : null;
}

function runVerdict(a: ComparableRun, b: ComparableRun, workload: WorkloadCheck, loadPoint: string | null): Verdict {
  const { subject, baseline, swapped } = orientation(a, b);
  const [subj, base] = swapped ? [a, b] : [b, a];
  const simulated = a.simulated || b.simulated;
  const empty = noRequestsReason(a) ?? noRequestsReason(b);
  if (!workload.same || empty) {
    const why = empty ?? workload.summary.replace(/^different workloads: /, 'the workloads differ — ');
    return {
      outcome: 'not-comparable', subject, baseline, swapped, simulated,
      sentence: `not comparable: ${why}. Run both with the same workload.`,
      reasons: [why],
    };
  }
  const results = keyResults(subj, base);
  if (!results.length) {
    const why = 'neither throughput nor latency figures exist on both sides';
    return { outcome: 'not-comparable', subject, baseline, swapped, simulated, sentence: `not comparable: ${why}.`, reasons: [why] };
  }
  const outcome = combine(results.map((r) => r.change));
  const shown = results.filter((r) => r.headline || r.change !== 'same');
  const parts = shown.map((r, i) => (i === 0 && loadPoint && r.pct !== null && r.short.startsWith('output tokens') ? `${formatPct(r.pct)} ${r.short} at ${loadPoint}` : r.text));
  let phrase: string;
  if (outcome === 'mixed') {
    const better = results.filter((r) => r.change === 'better').map((r) => r.short);
    const worse = results.filter((r) => r.change === 'worse').map((r) => r.short);
    phrase = `mixed for this workload: better ${better.join(', ')}; worse ${worse.join(', ')}`;
  } else phrase = OUTCOME_PHRASE[outcome];
  const reasons = results.map((r) => `${r.text}: ${r.change === 'same' ? 'within noise' : r.change}`);
  return { outcome, subject, baseline, swapped, simulated, sentence: `${subject}: ${parts.join(', ')} — ${phrase}${simulatedSuffix(simulated)}`, reasons };
}

function refOf(r: ComparableRun): ComparedRun {
  return { id: r.id, label: r.label, group: r.group ?? null, mode: r.mode, gpuCount: r.gpuCount, simulated: r.simulated, tool: r.tool };
}

function runNotes(a: ComparableRun, b: ComparableRun): string[] {
  const notes: string[] = [];
  if (!a.gpuCount || !b.gpuCount) {
    const which = [a, b].filter((r) => !r.gpuCount).map((r) => r.label);
    notes.push(`GPU count unknown for ${which.join(' and ')}: the verdict uses output tokens/s, not per GPU. Give the GPU counts (handoff compare --gpus-a N --gpus-b N) to compare per GPU.`);
  }
  for (const r of [a, b]) {
    const n = r.metrics.scalars.requestCount;
    if (n !== undefined && n > 0 && n < 100) {
      notes.push(`${r.label} has ${n} requests: its p99 is close to its slowest request, so tails are judged with a ±${NOISE.tailRel * 100}% band.`);
      break;
    }
  }
  if (a.simulated || b.simulated) notes.push('Simulated: the mocker engine models latency; its numbers do not come from GPUs.');
  return notes;
}

/** Compares run B with run A: workload check, per-metric deltas (B − A) and the verdict. */
export function compareRuns(a: ComparableRun, b: ComparableRun): RunComparison {
  const workload = checkWorkloads(a, b);
  const keys = effectiveKeys(a, b);
  const loadPoint = loadPointOf(b.workload) ?? loadPointOf(a.workload);
  return {
    kind: 'runs',
    a: refOf(a),
    b: refOf(b),
    loadPoint,
    workload,
    metrics: deltas(a, b, keys),
    verdict: runVerdict(a, b, workload, loadPoint),
    notes: runNotes(a, b),
  };
}

function range(pcts: number[]): string {
  const lo = Math.min(...pcts);
  const hi = Math.max(...pcts);
  return formatPct(lo) === formatPct(hi) ? formatPct(lo) : `${formatPct(lo)}…${formatPct(hi)}`;
}

function keyOf(r: ComparableRun): string | null {
  const k = loadKey(r.workload);
  return k ? `${k.kind}:${k.value}` : null;
}

/**
 * Compares two sweeps point by point (runs paired by concurrency or request rate). The overall
 * outcome is better (worse) when every comparable point is better (worse) or without significant
 * difference and at least one is better (worse); no significant difference when all points are;
 * mixed otherwise.
 */
export function compareGroups(groupA: { id: string; label: string; runs: ComparableRun[] }, groupB: { id: string; label: string; runs: ComparableRun[] }): GroupComparison {
  const byKey = (runs: ComparableRun[]) => {
    const m = new Map<string, ComparableRun>();
    for (const r of runs) {
      const k = keyOf(r);
      if (k && !m.has(k)) m.set(k, r);
    }
    return m;
  };
  const ma = byKey(groupA.runs);
  const mb = byKey(groupB.runs);
  const order = (k: string) => {
    const [kind, v] = k.split(':');
    return (kind === 'rate' ? 1e9 : 0) + Number(v);
  };
  const keys = [...new Set([...ma.keys(), ...mb.keys()])].sort((x, y) => order(x) - order(y));
  const points: RunComparison[] = [];
  const unmatched: GroupComparison['unmatched'] = [];
  for (const k of keys) {
    const ra = ma.get(k);
    const rb = mb.get(k);
    if (ra && rb) points.push(compareRuns(ra, rb));
    else if (ra) unmatched.push({ loadPoint: loadPointOf(ra.workload) ?? k, side: 'a', runId: ra.id });
    else if (rb) unmatched.push({ loadPoint: loadPointOf(rb.workload) ?? k, side: 'b', runId: rb.id });
  }
  const notes: string[] = [];
  const unkeyed = [...groupA.runs, ...groupB.runs].filter((r) => !keyOf(r));
  if (unkeyed.length) notes.push(`Left out (no concurrency or request rate recorded): ${unkeyed.map((r) => r.id).join(', ')}.`);
  for (const u of unmatched) notes.push(`${u.loadPoint} was run only in ${u.side === 'a' ? groupA.label : groupB.label}.`);

  // The workload, apart from the load that the sweep varies, must match at every point.
  const differences = points.flatMap((p) => p.workload.differences.map((d) => ({ ...d, label: `${d.label} at ${p.loadPoint ?? 'a point'}` })));
  const blocking = differences.filter((d) => d.blocking);
  const workload: WorkloadCheck = {
    same: points.length > 0 && blocking.length === 0,
    summary: !points.length
      ? 'different workloads: no load point (concurrency or request rate) was run in both'
      : blocking.length
        ? `different workloads: ${blocking.map((d) => `${d.label} ${show(d.a)} vs ${show(d.b)}`).join(', ')}`
        : `same workload at ${points.length} load point${points.length > 1 ? 's' : ''}: ${describeWorkload({ ...groupA.runs[0]!.workload, concurrency: null, requestRate: null })}`,
    differences,
  };
  const first = points[0];
  const base = first?.verdict;
  const subject = base?.subject ?? groupB.label;
  const baseline = base?.baseline ?? groupA.label;
  const swapped = base?.swapped ?? false;
  const simulated = [...groupA.runs, ...groupB.runs].some((r) => r.simulated);
  const comparable = points.filter((p) => p.verdict.outcome !== 'not-comparable');
  if (!comparable.length) {
    const why = points.length ? (points.map((p) => p.verdict.reasons[0]).find(Boolean) ?? workload.summary) : workload.summary.replace(/^different workloads: /, '');
    return {
      kind: 'groups', a: { id: groupA.id, label: groupA.label, runs: groupA.runs.map(refOf) }, b: { id: groupB.id, label: groupB.label, runs: groupB.runs.map(refOf) },
      points, unmatched, workload,
      verdict: { outcome: 'not-comparable', subject, baseline, swapped, simulated, sentence: `not comparable: ${why}. Run both sweeps with the same workload and load points.`, reasons: [why] },
      notes,
    };
  }
  const kind = loadKey((comparable[0]!.verdict.swapped ? groupA : groupB).runs.find((r) => keyOf(r))!.workload)?.kind ?? 'concurrency';
  const pointName = (p: RunComparison) => (p.loadPoint ?? '').replace(/^concurrency /, '').replace(/ requests\/s.*$/, '');
  const across = `${kind === 'rate' ? 'request rate' : 'concurrency'} ${comparable.map(pointName).join(', ')}${kind === 'rate' ? ' requests/s' : ''}`;
  // Ranges per key metric over the points, in the order of the first point's sentence.
  const perMetric = new Map<string, number[]>();
  for (const p of comparable) {
    for (const m of p.metrics) {
      if (!m.key || m.pctChange === null || m.metric === 'errorRate') continue;
      const short = shortName(m.metric, m.stat);
      const pct = p.verdict.swapped ? invertPct(m.pctChange) : m.pctChange;
      const list = perMetric.get(short) ?? [];
      list.push(pct);
      perMetric.set(short, list);
    }
  }
  const outcomes = comparable.map((p) => p.verdict.outcome as Exclude<VerdictOutcome, 'not-comparable'>);
  let outcome: VerdictOutcome;
  if (outcomes.every((o) => o === 'no-significant-difference')) outcome = 'no-significant-difference';
  else if (outcomes.every((o) => o === 'better' || o === 'no-significant-difference')) outcome = 'better';
  else if (outcomes.every((o) => o === 'worse' || o === 'no-significant-difference')) outcome = 'worse';
  else outcome = 'mixed';
  const headline = ['output tokens/s/GPU', 'output tokens/s', 'TTFT p99', 'ITL p50', 'latency p99', 'latency p50'];
  const parts = headline.filter((h) => perMetric.has(h)).map((h) => `${h} ${range(perMetric.get(h)!)}`);
  const byOutcome = (o: string) => comparable.filter((p) => p.verdict.outcome === o).map(pointName);
  const detail = (['better', 'worse', 'mixed', 'no-significant-difference'] as const)
    .filter((o) => byOutcome(o).length)
    .map((o) => `${o === 'no-significant-difference' ? 'no significant difference' : o} at ${byOutcome(o).join(', ')}`)
    .join('; ');
  // Which key metrics got better or worse at some point, named as in the per-point sentences.
  const moved = (want: 'better' | 'worse') => [
    ...new Set(
      comparable.flatMap((p) => {
        // Deltas are B relative to A; a swapped verdict speaks for A.
        const w = p.verdict.swapped ? (want === 'better' ? 'worse' : 'better') : want;
        return p.metrics.filter((m) => m.key && m.change === w).map((m) => shortName(m.metric, m.stat));
      }),
    ),
  ];
  const allSame = outcomes.every((o) => o === outcome);
  const phrase =
    outcome === 'mixed'
      ? `mixed for this workload${allSame ? ' at every point' : ''}: better ${moved('better').join(', ') || 'nothing'}; worse ${moved('worse').join(', ') || 'nothing'}${allSame ? '' : ` (${detail})`}`
      : outcome === 'no-significant-difference'
        ? 'no significant difference for this workload at any point'
        : allSame
          ? `${outcome} for this workload at every point`
          : `${outcome} for this workload (${detail})`;
  const sentence = `${subject} over ${across}: ${parts.join(', ')} — ${phrase}${simulatedSuffix(simulated)}`;
  const reasons = comparable.map((p) => `${p.loadPoint ?? 'point'}: ${p.verdict.sentence}`);
  return {
    kind: 'groups',
    a: { id: groupA.id, label: groupA.label, runs: groupA.runs.map(refOf) },
    b: { id: groupB.id, label: groupB.label, runs: groupB.runs.map(refOf) },
    points,
    unmatched,
    workload,
    verdict: { outcome, subject, baseline, swapped, simulated, sentence, reasons },
    notes,
  };
}

function shortName(metric: string, stat: string): string {
  if (metric === 'outputTokenThroughputPerS') return 'output tokens/s';
  return [...KEY_METRICS, ...NON_STREAMING_KEYS].find((k) => k.metric === metric && k.stat === stat)?.short ?? `${metric} ${stat}`;
}

/** A's change relative to B, from B's change relative to A. */
function invertPct(pctBvsA: number): number {
  const ratio = 1 + pctBvsA / 100;
  return ratio === 0 ? Infinity : (1 / ratio - 1) * 100;
}
