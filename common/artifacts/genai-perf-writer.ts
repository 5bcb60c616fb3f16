import type { DistributionMetricKey } from '../metrics/metric-keys';
import type { RunMetrics } from '../metrics/run-metrics';
import type { Stats } from '../metrics/stats';
import type { Workload } from '../run-record';

/**
 * Writes a run's aggregates in GenAI-Perf's own layout (reference/genai-perf.md §3.2, §3.3), so
 * `profile_export_genai_perf.json` and `.csv` from Handoff's load generator open in tools that read
 * GenAI-Perf output, and Handoff's importer reads them back to the same numbers.
 */

// GenAI-Perf's per-request metrics, in its JSON order, with its names and units.
const DISTRIBUTIONS: [DistributionMetricKey, string, string, boolean][] = [
  ['requestLatencyMs', 'request_latency', 'ms', false],
  ['ttftMs', 'time_to_first_token', 'ms', true],
  ['ttstMs', 'time_to_second_token', 'ms', true],
  ['itlMs', 'inter_token_latency', 'ms', true],
  ['tpsPerUser', 'output_token_throughput_per_user', 'tokens/sec/user', true],
  ['osl', 'output_sequence_length', 'tokens', false],
  ['isl', 'input_sequence_length', 'tokens', false],
];
const STAT_ORDER = ['avg', 'p1', 'p5', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95', 'p99', 'min', 'max', 'std'] as const;

function statsObject(unit: string, s: Stats): Record<string, number | string> {
  const o: Record<string, number | string> = { unit };
  for (const k of STAT_ORDER) o[k] = s[k];
  return o;
}

/** The `input_config` block GenAI-Perf writes, from what Handoff knows of the workload. */
function inputConfig(w: Workload): Record<string, unknown> {
  const stimulus: Record<string, number> = {};
  if (w.concurrency != null) stimulus.concurrency = w.concurrency;
  if (w.requestRate != null) stimulus.request_rate = w.requestRate;
  return {
    model_names: w.model ? [w.model] : [],
    subcommand: 'profile',
    endpoint: { type: w.endpointType ?? 'chat', streaming: w.streaming ?? true, service_kind: 'openai' },
    perf_analyzer: {
      stimulus,
      measurement: w.requestCount != null ? { mode: 'request_count', num: w.requestCount } : { mode: 'interval', num: 0 },
      warmup_request_count: w.warmupRequestCount ?? 0,
    },
    input: {
      synthetic_tokens: { mean: w.islMean ?? 0, stddev: w.islStddev ?? 0 },
      output_tokens: { mean: w.oslMean ?? -1, stddev: w.oslStddev ?? 0, deterministic: false },
      random_seed: w.randomSeed ?? 0,
      goodput: w.goodput ?? '',
    },
    tokenizer: { name: w.tokenizer ?? w.model ?? '', revision: 'main', trust_remote_code: false },
  };
}

/** `profile_export_genai_perf.json`: metrics, then telemetry_stats, then input_config. */
export function writeGenaiPerfJson(m: RunMetrics, workload: Workload): string {
  const streaming = workload.streaming ?? true;
  const out: Record<string, unknown> = {};
  const sc = m.scalars;
  if (sc.requestThroughputPerS !== undefined) out.request_throughput = { unit: 'requests/sec', avg: sc.requestThroughputPerS };
  for (const [key, tag, unit, streamingOnly] of DISTRIBUTIONS) {
    const s = m.distributions[key];
    if (s && (streaming || !streamingOnly)) out[tag] = statsObject(unit, s);
    if (key === 'requestLatencyMs' && sc.requestCount !== undefined) out.request_count = { unit: 'count', avg: sc.requestCount };
  }
  if (sc.outputTokenThroughputPerS !== undefined) out.output_token_throughput = { unit: 'tokens/sec', avg: sc.outputTokenThroughputPerS };
  if (sc.goodputPerS !== undefined) out.request_goodput = { unit: 'requests/sec', avg: sc.goodputPerS };
  out.telemetry_stats = {};
  out.input_config = inputConfig(workload);
  return JSON.stringify(out, null, 4);
}

/** Python's f"{v:,.2f}": two decimals, thousands separators. */
function pyMoney(v: number): string {
  const [int, frac] = Math.abs(v).toFixed(2).split('.');
  return `${v < 0 ? '-' : ''}${int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}
const cell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const CSV_ROWS: [DistributionMetricKey, string, boolean][] = [
  ['ttftMs', 'Time To First Token (ms)', true],
  ['ttstMs', 'Time To Second Token (ms)', true],
  ['requestLatencyMs', 'Request Latency (ms)', false],
  ['itlMs', 'Inter Token Latency (ms)', true],
  ['tpsPerUser', 'Output Token Throughput Per User (tokens/sec/user)', true],
  ['osl', 'Output Sequence Length (tokens)', false],
  ['isl', 'Input Sequence Length (tokens)', false],
];
const CSV_STATS = ['avg', 'min', 'max', 'p99', 'p95', 'p90', 'p75', 'p50', 'p25', 'p10', 'p5', 'p1'] as const;

/** `profile_export_genai_perf.csv`: two blocks, CRLF, GenAI-Perf's row names and number format. */
export function writeGenaiPerfCsv(m: RunMetrics, workload: Workload): string {
  const streaming = workload.streaming ?? true;
  const rows: string[][] = [['Metric', ...CSV_STATS]];
  for (const [key, name, streamingOnly] of CSV_ROWS) {
    const s = m.distributions[key];
    if (!s || (streamingOnly && !streaming)) continue;
    rows.push([name, ...CSV_STATS.map((k) => pyMoney(s[k]))]);
  }
  rows.push([]);
  rows.push(['Metric', 'Value']);
  const sc = m.scalars;
  if (sc.outputTokenThroughputPerS !== undefined) rows.push(['Output Token Throughput (tokens/sec)', pyMoney(sc.outputTokenThroughputPerS)]);
  if (sc.requestThroughputPerS !== undefined) rows.push(['Request Throughput (per sec)', pyMoney(sc.requestThroughputPerS)]);
  if (sc.goodputPerS !== undefined) rows.push(['Request Goodput (per sec)', pyMoney(sc.goodputPerS)]);
  if (sc.requestCount !== undefined) rows.push(['Request Count (count)', pyMoney(sc.requestCount)]);
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
