import type { DistributionMetricKey, MetricKey, ScalarMetricKey } from '../metrics/metric-keys';
import { isDistributionKey } from '../metrics/metric-keys';
import type { RunMetrics } from '../metrics/run-metrics';
import { PERCENTILES, type PercentileKey } from '../metrics/stats';
import type { RequestRecord, Workload } from '../run-record';

/** One file handed to the importer: its name (for detection and messages) and its text. */
export interface ArtifactFile {
  name: string;
  text: string;
}

export type ArtifactKind =
  | 'perf-analyzer-profile-export' // genai-perf's profile_export.json (perf_analyzer per-request export)
  | 'genai-perf-json' // *_genai_perf.json
  | 'genai-perf-csv' // *_genai_perf.csv
  | 'aiperf-jsonl' // profile_export.jsonl
  | 'aiperf-json' // profile_export_aiperf.json
  | 'aiperf-csv' // profile_export_aiperf.csv
  | 'vllm-bench-json'; // vllm bench serve --save-result

export type ToolName = 'genai-perf' | 'aiperf' | 'vllm-bench';

export const TOOL_OF_KIND: Record<ArtifactKind, ToolName> = {
  'perf-analyzer-profile-export': 'genai-perf',
  'genai-perf-json': 'genai-perf',
  'genai-perf-csv': 'genai-perf',
  'aiperf-jsonl': 'aiperf',
  'aiperf-json': 'aiperf',
  'aiperf-csv': 'aiperf',
  'vllm-bench-json': 'vllm-bench',
};

export type StatKey = 'avg' | 'min' | 'max' | 'std' | 'sum' | 'count' | PercentileKey;
export const STAT_KEYS: readonly StatKey[] = ['avg', 'min', 'max', 'std', 'sum', 'count', ...PERCENTILES.map((p) => `p${p}` as PercentileKey)];

export type ReportedStats = Partial<Record<StatKey, number>>;

/** Aggregates as the tool wrote them, converted to our names and units (metric-keys.ts). */
export interface ReportedMetrics {
  scalars: Partial<Record<ScalarMetricKey, number>>;
  distributions: Partial<Record<DistributionMetricKey, ReportedStats>>;
  /** Metrics Handoff has no name for, under the tool's name, in the tool's unit. */
  other: Record<string, { unit: string } & ReportedStats>;
  /** Decimal places the values were printed with (2 in the CSVs); null for full precision. */
  decimals: number | null;
}

export function emptyReported(decimals: number | null): ReportedMetrics {
  return { scalars: {}, distributions: {}, other: {}, decimals };
}

export interface Disagreement {
  metric: MetricKey;
  /** `value` for run-level metrics, else the statistic. */
  stat: StatKey | 'value';
  reported: number;
  recomputed: number;
  /** (recomputed − reported) ÷ |reported|; Infinity when reported is 0 and recomputed is not. */
  relDiff: number;
}

export interface ImportedRun {
  tool: ToolName;
  toolVersion: string | null;
  /** Which artifact kinds were read. */
  kinds: ArtifactKind[];
  /** Schema generation recognised, e.g. `aiperf-json flat (v0.1.1+)`, `aiperf-jsonl pre-release`. */
  schemas: string[];
  workload: Workload;
  /** ISO times the tool recorded for the run, when it did. */
  startedAt: string | null;
  finishedAt: string | null;
  /** Per-request records when an artifact had them (warmup included, marked by `phase`). */
  requests: RequestRecord[] | null;
  reported: ReportedMetrics | null;
  /** Aggregates recomputed from `requests` with common/metrics. */
  recomputed: RunMetrics | null;
  /** Reported vs recomputed figures that differ beyond the reported precision. */
  disagreements: Disagreement[];
  /** How many figures were compared (0 when there was nothing to compare). */
  comparedCount: number;
  /** The files as read, with secrets redacted: what the run record keeps. */
  files: { name: string; kind: ArtifactKind; text: string }[];
  /** Files of a directory that are not benchmark results (inputs.json, logs, plots …). */
  ignored: { name: string; reason: string }[];
  /** Things the user should know about this import (differences in definitions, missing data). */
  notes: string[];
}

/** Relative tolerance for full-precision figures: floating-point noise, not a real difference. */
export const FULL_PRECISION_REL_TOL = 1e-6;

function differs(reported: number, recomputed: number, decimals: number | null): boolean {
  // Half a unit in the last printed place, plus the float noise of printing huge values.
  const absTol = decimals === null ? 0 : 0.5 * 10 ** -decimals * (1 + 1e-9);
  const scale = Math.max(Math.abs(reported), Math.abs(recomputed));
  return Math.abs(reported - recomputed) > absTol + FULL_PRECISION_REL_TOL * scale;
}

function relDiff(reported: number, recomputed: number): number {
  if (reported === 0) return recomputed === 0 ? 0 : Infinity;
  return (recomputed - reported) / Math.abs(reported);
}

/**
 * Compares every figure the tool reported with the recomputed one. A figure disagrees when the
 * difference exceeds half a unit of the printed precision (CSV: 0.005) plus 1e-6 relative.
 */
export function compareReported(reported: ReportedMetrics, recomputed: RunMetrics): { disagreements: Disagreement[]; compared: number } {
  const disagreements: Disagreement[] = [];
  let compared = 0;
  for (const [k, rv] of Object.entries(reported.scalars) as [ScalarMetricKey, number][]) {
    const cv = recomputed.scalars[k];
    if (cv === undefined || !Number.isFinite(rv)) continue;
    compared++;
    if (differs(rv, cv, reported.decimals)) disagreements.push({ metric: k, stat: 'value', reported: rv, recomputed: cv, relDiff: relDiff(rv, cv) });
  }
  for (const [k, stats] of Object.entries(reported.distributions) as [DistributionMetricKey, ReportedStats][]) {
    if (!isDistributionKey(k)) continue;
    const mine = recomputed.distributions[k];
    if (!mine) continue;
    for (const [s, rv] of Object.entries(stats) as [StatKey, number][]) {
      const cv = mine[s];
      if (cv === undefined || !Number.isFinite(rv)) continue;
      compared++;
      if (differs(rv, cv, reported.decimals)) disagreements.push({ metric: k, stat: s, reported: rv, recomputed: cv, relDiff: relDiff(rv, cv) });
    }
  }
  return { disagreements, compared };
}
