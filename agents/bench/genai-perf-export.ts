import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedWorkload } from '../../common/bench-rpc';
import { DISTRIBUTION_METRICS, type DistributionMetricKey } from '../../common/metrics/metric-keys';
import type { RunMetrics } from '../../common/metrics/run-metrics';
import type { Stats } from '../../common/metrics/stats';
import type { GpuSample } from '../../common/run-record';

/**
 * The built-in generator's results in GenAI-Perf's layout and schemas (reference/genai-perf.md §2.1,
 * §3.1–3.3), so GenAI-Perf's own readers, our importer and other tools read them:
 *   <model>-openai-<chat|completions>-<concurrencyN|request_rateR>/
 *     profile_export.json              perf_analyzer's per-request export (exact u64 epoch ns)
 *     profile_export_genai_perf.json   statistics, telemetry_stats, input_config
 *     profile_export_genai_perf.csv    the two-block CSV (CRLF, f"{v:,.2f}")
 */

export const PROFILE_EXPORT = 'profile_export.json';
export const GENAI_PERF_JSON = 'profile_export_genai_perf.json';
export const GENAI_PERF_CSV = 'profile_export_genai_perf.csv';

/** Python's repr of a float as it appears in directory names: 10 → "10.0". */
function pyFloat(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** GenAI-Perf's run directory name (perf_analyzer_config.py::_set_artifact_directory). */
export function genaiPerfRunDirName(w: ResolvedWorkload): string {
  const stimulus = w.requestRate !== null ? `request_rate${pyFloat(w.requestRate)}` : `concurrency${w.concurrency ?? 1}`;
  return `${w.model.replace(/\//g, '_')}-openai-${w.endpointType}-${stimulus}`;
}

export function endpointPath(w: ResolvedWorkload): string {
  return w.endpointType === 'chat' ? '/v1/chat/completions' : '/v1/completions';
}

/** One perf_analyzer request object as a JSON text; epoch nanoseconds are written as exact integers. */
export function paRequestJson(sendEpochNs: bigint, payload: string, responses: ReadonlyArray<{ epochNs: bigint; text: string }>): string {
  let s = `{"timestamp":${sendEpochNs},"request_inputs":{"payload":${JSON.stringify(payload)}},"response_timestamps":[`;
  s += responses.map((r) => String(r.epochNs)).join(',');
  s += '],"response_outputs":[';
  s += responses.map((r) => `{"response":${JSON.stringify(r.text)}}`).join(',');
  return s + ']}';
}

/**
 * Assembles profile_export.json from request objects kept one per line in `requestLines` (written
 * while the run went on, so the bodies never had to stay in memory).
 */
export function writeProfileExport(file: string, requestLinesFile: string | null, w: ResolvedWorkload, windowEpochNs: [bigint, bigint]): void {
  const mode = w.requestRate !== null ? 'request_rate' : 'concurrency';
  const value = w.requestRate !== null ? pyFloat(w.requestRate) : String(w.concurrency ?? 1);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, `{"experiments":[{"experiment":{"mode":"${mode}","value":${value}},"requests":[`);
    if (requestLinesFile && fs.existsSync(requestLinesFile)) {
      const text = fs.readFileSync(requestLinesFile, 'utf8');
      let first = true;
      let from = 0;
      while (from < text.length) {
        let nl = text.indexOf('\n', from);
        if (nl === -1) nl = text.length;
        if (nl > from) {
          fs.writeSync(fd, first ? text.slice(from, nl) : ',' + text.slice(from, nl));
          first = false;
        }
        from = nl + 1;
      }
    }
    fs.writeSync(fd, `],"window_boundaries":[${windowEpochNs[0]},${windowEpochNs[1]}]}],"version":"handoff-builtin","service_kind":"openai","endpoint":"${endpointPath(w).slice(1)}"}`);
  } finally {
    fs.closeSync(fd);
  }
}

// GenAI-Perf's JSON key order (the fixture's), then telemetry_stats and input_config.
const JSON_ORDER: Array<{ tag: string; kind: 'dist'; key: DistributionMetricKey } | { tag: string; kind: 'scalar'; unit: string; get: (m: RunMetrics) => number | undefined }> = [
  { tag: 'request_throughput', kind: 'scalar', unit: 'requests/sec', get: (m) => m.scalars.requestThroughputPerS },
  { tag: 'request_latency', kind: 'dist', key: 'requestLatencyMs' },
  { tag: 'request_count', kind: 'scalar', unit: 'count', get: (m) => m.scalars.requestCount },
  { tag: 'time_to_first_token', kind: 'dist', key: 'ttftMs' },
  { tag: 'time_to_second_token', kind: 'dist', key: 'ttstMs' },
  { tag: 'inter_token_latency', kind: 'dist', key: 'itlMs' },
  { tag: 'output_token_throughput', kind: 'scalar', unit: 'tokens/sec', get: (m) => m.scalars.outputTokenThroughputPerS },
  { tag: 'output_token_throughput_per_user', kind: 'dist', key: 'tpsPerUser' },
  { tag: 'output_sequence_length', kind: 'dist', key: 'osl' },
  { tag: 'input_sequence_length', kind: 'dist', key: 'isl' },
  { tag: 'request_goodput', kind: 'scalar', unit: 'requests/sec', get: (m) => m.scalars.goodputPerS },
];

function statsObject(unit: string, s: Stats): Record<string, number | string> {
  return { unit, avg: s.avg, p1: s.p1, p5: s.p5, p10: s.p10, p25: s.p25, p50: s.p50, p75: s.p75, p90: s.p90, p95: s.p95, p99: s.p99, min: s.min, max: s.max, std: s.std };
}

/** GenAI-Perf's telemetry_stats from the run's nvidia-smi samples: {metric: {unit, "<gpu>": stats}}. */
export function telemetryStats(samples: readonly GpuSample[], summarize: (v: number[]) => Stats | null): Record<string, unknown> {
  const series = new Map<string, { unit: string; perGpu: Map<number, number[]> }>();
  const add = (metric: string, unit: string, gpu: number, v: number | null | undefined): void => {
    if (v === null || v === undefined) return;
    let m = series.get(metric);
    if (!m) series.set(metric, (m = { unit, perGpu: new Map() }));
    let list = m.perGpu.get(gpu);
    if (!list) m.perGpu.set(gpu, (list = []));
    list.push(v);
  };
  for (const s of samples) {
    for (const g of s.gpus) {
      add('gpu_utilization', '%', g.index, g.utilizationPct);
      add('gpu_memory_used', 'GB', g.index, g.memoryUsedMiB === null ? null : (g.memoryUsedMiB * 2 ** 20) / 1e9);
      add('gpu_power_usage', 'W', g.index, g.powerW);
    }
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const [metric, m] of series) {
    const entry: Record<string, unknown> = { unit: m.unit };
    for (const [gpu, values] of m.perGpu) {
      const st = summarize(values);
      if (!st) continue;
      const { count: _count, sum: _sum, ...rest } = st;
      entry[String(gpu)] = rest;
    }
    out[metric] = entry;
  }
  return out;
}

export interface InputConfigFacts {
  url: string;
  artifactDirectory: string;
}

/** GenAI-Perf's nested input_config, holding what common/artifacts reads back as the workload. */
export function inputConfig(w: ResolvedWorkload, f: InputConfigFacts): Record<string, unknown> {
  const goodput: Record<string, number> = {};
  for (const [k, v] of Object.entries(w.slos) as [DistributionMetricKey, number][]) goodput[DISTRIBUTION_METRICS[k].tags[0]] = v;
  const extra: Record<string, unknown> = { ...w.extraBody };
  if (w.minTokens !== null) extra.min_tokens = w.minTokens;
  if (w.maxTokens !== null) extra.max_tokens = w.maxTokens;
  if (w.ignoreEos) extra.ignore_eos = true;
  return {
    model_names: [w.model],
    subcommand: 'profile',
    endpoint: { type: w.endpointType, streaming: w.streaming, url: f.url, service_kind: 'openai', custom: endpointPath(w).slice(1) },
    perf_analyzer: {
      stimulus: w.requestRate !== null ? { request_rate: w.requestRate } : { concurrency: w.concurrency ?? 1 },
      measurement: w.requestCount !== null ? { mode: 'request_count', num: w.requestCount } : { mode: 'interval', num: Math.round((w.durationS ?? 0) * 1000) },
      warmup_request_count: w.warmupRequestCount,
      stability_percentage: 999,
      request_distribution: w.requestRate !== null ? w.arrival : undefined,
    },
    input: {
      num_dataset_entries: w.numDatasetEntries,
      random_seed: w.randomSeed,
      goodput: Object.keys(goodput).length ? goodput : '',
      extra,
      output_tokens: { mean: w.oslMean ?? w.maxTokens ?? 0, stddev: w.oslStddev, deterministic: w.exactOutput },
      synthetic_tokens: { mean: w.islMean, stddev: w.islStddev },
      prompt_source: 'synthetic',
    },
    output: { artifact_directory: f.artifactDirectory, profile_export_file: PROFILE_EXPORT, generate_plots: false },
    tokenizer: { name: w.tokenizer, revision: 'main', trust_remote_code: false },
    generator: 'handoff builtin load generator',
  };
}

export function genaiPerfJson(m: RunMetrics, telemetry: Record<string, unknown>, config: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const e of JSON_ORDER) {
    if (e.kind === 'dist') {
      const s = m.distributions[e.key];
      if (s) doc[e.tag] = statsObject(DISTRIBUTION_METRICS[e.key].unit, s);
    } else {
      const v = e.get(m);
      if (v !== undefined) doc[e.tag] = { unit: e.unit, avg: v };
    }
  }
  doc.telemetry_stats = telemetry;
  doc.input_config = config;
  return doc;
}

/** Python's f"{v:,.2f}". */
export function pyMoney(v: number): string {
  if (!Number.isFinite(v)) return 'N/A';
  const neg = v < 0;
  const [int, frac] = Math.abs(v).toFixed(2).split('.') as [string, string];
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${grouped}.${frac}`;
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_DIST_ROWS: Array<{ name: string; key: DistributionMetricKey; streamingOnly: boolean }> = [
  { name: 'Time To First Token (ms)', key: 'ttftMs', streamingOnly: true },
  { name: 'Time To Second Token (ms)', key: 'ttstMs', streamingOnly: true },
  { name: 'Request Latency (ms)', key: 'requestLatencyMs', streamingOnly: false },
  { name: 'Inter Token Latency (ms)', key: 'itlMs', streamingOnly: true },
  { name: 'Output Token Throughput Per User (tokens/sec/user)', key: 'tpsPerUser', streamingOnly: true },
  { name: 'Output Sequence Length (tokens)', key: 'osl', streamingOnly: false },
  { name: 'Input Sequence Length (tokens)', key: 'isl', streamingOnly: false },
];
const CSV_STATS = ['avg', 'min', 'max', 'p99', 'p95', 'p90', 'p75', 'p50', 'p25', 'p10', 'p5', 'p1'] as const;

export function genaiPerfCsv(m: RunMetrics, streaming: boolean, withGoodput: boolean): string {
  const rows: string[][] = [['Metric', ...CSV_STATS]];
  for (const r of CSV_DIST_ROWS) {
    if (r.streamingOnly && !streaming) continue;
    const s = m.distributions[r.key];
    if (!s) continue;
    rows.push([r.name, ...CSV_STATS.map((k) => pyMoney(s[k]))]);
  }
  rows.push([]);
  rows.push(['Metric', 'Value']);
  const value = (v: number | undefined) => (v === undefined ? 'N/A' : pyMoney(v));
  rows.push(['Output Token Throughput (tokens/sec)', value(m.scalars.outputTokenThroughputPerS)]);
  rows.push(['Request Throughput (per sec)', value(m.scalars.requestThroughputPerS)]);
  if (withGoodput) rows.push(['Request Goodput (per sec)', value(m.scalars.goodputPerS)]);
  rows.push(['Request Count (count)', value(m.scalars.requestCount)]);
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Writes the two derived files next to profile_export.json. */
export function writeGenaiPerfSummaries(dir: string, m: RunMetrics, w: ResolvedWorkload, telemetry: Record<string, unknown>, facts: InputConfigFacts): void {
  const json = genaiPerfJson(m, telemetry, inputConfig(w, facts));
  fs.writeFileSync(path.join(dir, GENAI_PERF_JSON), JSON.stringify(json, null, 4) + '\n');
  fs.writeFileSync(path.join(dir, GENAI_PERF_CSV), genaiPerfCsv(m, w.streaming, Object.keys(w.slos).length > 0));
}
