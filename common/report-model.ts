import { z } from 'zod';
import type { Comparison } from './compare';
import { loadPointOf } from './compare';
import { DISTRIBUTION_METRICS, SCALAR_METRICS, type DistributionMetricKey, type ScalarMetricKey } from './metrics/metric-keys';
import type { RunJson } from './run-record';
import type { RunSeries } from './run-series';
import type { ImportInfo, MetricsView } from './run-view';
import type { RunFabricLine } from './kv/fabric-run-line';
import type { RunWaterfall } from './waterfall';

/**
 * Report export (issue 8): what reports.export takes and returns, and the data a report is made
 * of. A report covers one or more runs, a sweep (the runs of one group), or a comparison of two
 * runs or two sweeps; every format (HTML, PDF, CSV, bundle) is built from the same ReportData.
 */

export const ReportFormat = z.enum(['html', 'pdf', 'csv', 'bundle']);
export type ReportFormat = z.infer<typeof ReportFormat>;

export const ReportExportParams = z
  .object({
    /** Run ids or unique prefixes: one section per run. */
    runIds: z.array(z.string().min(1).max(200)).min(1).max(200).optional(),
    /** Two runs or two sweeps (ids or prefixes): the verdict, deltas, and both sides. */
    compare: z.tuple([z.string().min(1).max(200), z.string().min(1).max(200)]).optional(),
    /** A sweep's group id: its runs, throughput against load, Pareto. */
    sweepId: z.string().min(1).max(200).optional(),
    format: ReportFormat,
    /**
     * Where to write, on the controller's computer: a file for html, pdf and bundle, a directory
     * for csv (requests.csv, metrics.csv and, for comparisons, comparison.csv). Default: a new
     * file or directory under $HANDOFF_HOME/reports/.
     */
    outPath: z.string().min(1).max(4096).optional(),
    title: z.string().min(1).max(200).optional(),
    /** GPU counts for compared runs that do not know theirs (imports), as runs.compare takes them. */
    gpuCountA: z.int().min(1).max(100_000).optional(),
    gpuCountB: z.int().min(1).max(100_000).optional(),
  })
  .refine((p) => (p.runIds ? 1 : 0) + (p.compare ? 1 : 0) + (p.sweepId ? 1 : 0) === 1, { message: 'give exactly one of runIds, compare or sweepId' });
export type ReportExportParams = z.infer<typeof ReportExportParams>;

export const ReportFile = z.object({ path: z.string(), bytes: z.int().nonnegative() });
export type ReportFile = z.infer<typeof ReportFile>;

/** The result of a report export task. */
export const ReportExportResult = z.object({
  format: ReportFormat,
  title: z.string(),
  files: z.array(ReportFile).min(1),
  runIds: z.array(z.string()),
  simulated: z.boolean(),
});
export type ReportExportResult = z.infer<typeof ReportExportResult>;

/** reports.read: an exported file's bytes, so the browser UI can offer it as a download. */
export const ReportReadResult = z.object({ name: z.string(), mimeType: z.string(), bytes: z.int().nonnegative(), dataBase64: z.string() });
export type ReportReadResult = z.infer<typeof ReportReadResult>;

// ---------------------------------------------------------------- report data

export interface ReportProcess {
  name: string;
  role: string;
  host: string;
  gpuIds: number[];
  tp: number;
  /** The command as `handoff deploy --dry-run` prints it: env, then argv, shell-quoted over several lines. */
  command: string[];
}

/** Facts a host check found, at the time of the export (run.json keeps only part of them). */
export interface ReportHostNow {
  name: string;
  collectedAt: string;
  gpus: Array<{ index: number; name: string; memoryTotalMiB: number | null }>;
  driverVersion: string | null;
  cudaVersion: string | null;
  /** `nvidia-smi topo -m` as the host printed it. */
  topology: string | null;
  /** vllm, nixl, ucx, python, agent … → version. */
  versions: Record<string, string>;
}

export interface ReportRun {
  run: RunJson;
  metrics: MetricsView | null;
  metricsSource: string | null;
  series: RunSeries | null;
  importInfo: ImportInfo | null;
  /** The deployment plan's processes, when the deployment record is still on this computer. */
  processes: ReportProcess[] | null;
  /** Why processes is null. */
  processesNote: string | null;
  hostsNow: ReportHostNow[];
  /** A `handoff bench …` line that runs the same workload (the built-in generator), or the external tool's argv. */
  benchCommand: string[];
  /** runs.waterfall without a chosen request: the TTFT breakdown and the disaggregation check, as the run view shows them. */
  waterfall?: RunWaterfall | null;
  /** The per-block chart's reference line as the run view draws it: a matching stored kvprobe result, else the mocker's figure. */
  fabricLine?: RunFabricLine | null;
}

export interface ReportData {
  kind: 'runs' | 'sweep' | 'compare';
  title: string;
  generatedAt: string;
  handoffVersion: string;
  runs: ReportRun[];
  comparison: Comparison | null;
  /** For comparisons: which runs are side A and side B. */
  sides: { a: string[]; b: string[] } | null;
}

// ---------------------------------------------------------------- derived figures

export const DISTRIBUTION_ORDER: readonly DistributionMetricKey[] = ['ttftMs', 'ttstMs', 'ttfoMs', 'itlMs', 'iclMs', 'requestLatencyMs', 'tpsPerUser', 'isl', 'osl', 'outputTokenCount', 'reasoningTokenCount'];
export const SCALAR_ORDER: readonly ScalarMetricKey[] = [
  'requestCount',
  'errorCount',
  'benchmarkDurationS',
  'requestThroughputPerS',
  'outputTokenThroughputPerS',
  'goodputPerS',
  'goodRequestCount',
  'totalIsl',
  'totalOsl',
  'totalOutputTokenCount',
  'totalReasoningTokenCount',
];
export const STAT_ORDER = ['count', 'avg', 'std', 'min', 'p1', 'p5', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95', 'p99', 'max', 'sum'] as const;

export interface ScalarRow {
  key: string;
  label: string;
  unit: string;
  value: number;
}

/**
 * The run's one-number figures in display order, with output tokens/s per GPU derived where the
 * GPU count is known. `all` adds every other scalar (first/last timestamps, …) at the end.
 */
export function scalarRows(metrics: MetricsView | null, gpuCount: number | null | undefined, opts: { all?: boolean } = {}): ScalarRow[] {
  if (!metrics) return [];
  const out: ScalarRow[] = [];
  for (const k of SCALAR_ORDER) {
    const v = metrics.scalars[k];
    if (v === undefined || !Number.isFinite(v)) continue;
    out.push({ key: k, label: SCALAR_METRICS[k].label, unit: SCALAR_METRICS[k].unit, value: v });
    if (k === 'outputTokenThroughputPerS' && gpuCount) {
      out.push({ key: 'outputTokensPerSPerGpu', label: 'Output token throughput per GPU', unit: 'tokens/sec/GPU', value: v / gpuCount });
    }
  }
  if (opts.all) {
    for (const [k, v] of Object.entries(metrics.scalars)) {
      if ((SCALAR_ORDER as readonly string[]).includes(k) || !Number.isFinite(v)) continue;
      const info = (SCALAR_METRICS as Record<string, { label: string; unit: string } | undefined>)[k];
      out.push({ key: k, label: info?.label ?? k, unit: info?.unit ?? '', value: v });
    }
  }
  return out;
}

export interface DistributionRow {
  key: DistributionMetricKey;
  label: string;
  unit: string;
  stats: Record<string, number>;
}

export function distributionRows(metrics: MetricsView | null): DistributionRow[] {
  if (!metrics) return [];
  const out: DistributionRow[] = [];
  for (const k of DISTRIBUTION_ORDER) {
    const s = metrics.distributions[k];
    if (!s) continue;
    out.push({ key: k, label: DISTRIBUTION_METRICS[k].label, unit: DISTRIBUTION_METRICS[k].unit, stats: s });
  }
  return out;
}

/** One run of a sweep as a point on throughput-vs-load and Pareto charts. */
export interface SweepPoint {
  runId: string;
  label: string;
  /** Concurrency or request rate: the sweep's x axis. */
  load: number | null;
  loadKind: 'concurrency' | 'rate' | null;
  outputTokensPerS: number | null;
  outputTokensPerSPerGpu: number | null;
  requestsPerS: number | null;
  tpsPerUserP50: number | null;
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  itlP50Ms: number | null;
  latencyP50Ms: number | null;
}

export function sweepPoint(r: ReportRun): SweepPoint {
  const w = r.run.workload;
  const s = r.metrics?.scalars ?? {};
  const d = r.metrics?.distributions ?? {};
  const n = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);
  const tok = n(s.outputTokenThroughputPerS);
  const gpus = r.run.deployment?.gpuCount || null;
  const loadKind = w.requestRate != null ? 'rate' : w.concurrency != null ? 'concurrency' : null;
  return {
    runId: r.run.id,
    label: loadPointOf(w) ?? r.run.id,
    load: w.requestRate ?? w.concurrency ?? null,
    loadKind,
    outputTokensPerS: tok,
    outputTokensPerSPerGpu: tok !== null && gpus ? tok / gpus : null,
    requestsPerS: n(s.requestThroughputPerS),
    tpsPerUserP50: n(d.tpsPerUser?.p50),
    ttftP50Ms: n(d.ttftMs?.p50),
    ttftP99Ms: n(d.ttftMs?.p99),
    itlP50Ms: n(d.itlMs?.p50),
    latencyP50Ms: n(d.requestLatencyMs?.p50),
  };
}

/** Points not dominated by another (higher x and higher y both better): the Pareto frontier, by x. */
export function paretoFrontier<T>(points: readonly T[], x: (p: T) => number | null, y: (p: T) => number | null): T[] {
  const ok = points.filter((p) => x(p) !== null && y(p) !== null);
  return ok
    .filter((p) => !ok.some((q) => q !== p && x(q)! >= x(p)! && y(q)! >= y(p)! && (x(q)! > x(p)! || y(q)! > y(p)!)))
    .sort((a, b) => x(a)! - x(b)!);
}

/** Lower-case, dash-separated, safe as a file name. */
export function reportSlug(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'report'
  );
}
