/**
 * The metrics Handoff computes and imports, under one set of names for every tool. Each entry says
 * its unit, which direction is better, and the names GenAI-Perf, AIPerf and `vllm bench serve` use
 * for it (reference/genai-perf.md §3.2, §3.5; vllm-disagg.md §5), so importers and SLO parsing
 * share one table.
 */

export type Better = 'lower' | 'higher' | 'neither';

export interface MetricInfo {
  label: string;
  unit: string;
  better: Better;
  /** Tags in GenAI-Perf / AIPerf JSON and jsonl (first is the current name). */
  tags: readonly string[];
  /** Row names in the tools' CSVs, without the " (unit)" suffix, lower-cased. */
  csvNames: readonly string[];
}

/** Per-request metrics: each has a distribution (avg, min, max, std, p1…p99). */
export const DISTRIBUTION_METRICS = {
  ttftMs: {
    label: 'Time to first token', unit: 'ms', better: 'lower',
    tags: ['time_to_first_token', 'ttft'], csvNames: ['time to first token'],
  },
  ttstMs: {
    label: 'Time to second token', unit: 'ms', better: 'lower',
    tags: ['time_to_second_token', 'ttst'], csvNames: ['time to second token'],
  },
  ttfoMs: {
    label: 'Time to first output token (excluding reasoning)', unit: 'ms', better: 'lower',
    tags: ['time_to_first_output_token', 'ttfo'], csvNames: ['time to first output token'],
  },
  itlMs: {
    label: 'Inter-token latency', unit: 'ms', better: 'lower',
    tags: ['inter_token_latency', 'itl'], csvNames: ['inter token latency'],
  },
  iclMs: {
    label: 'Inter-chunk latency (pooled over chunks)', unit: 'ms', better: 'lower',
    tags: ['inter_chunk_latency', 'icl'], csvNames: ['inter chunk latency'],
  },
  requestLatencyMs: {
    label: 'Request latency', unit: 'ms', better: 'lower',
    tags: ['request_latency', 'e2e_latency'], csvNames: ['request latency'],
  },
  tpsPerUser: {
    label: 'Output tokens/s per user', unit: 'tokens/sec/user', better: 'higher',
    tags: ['output_token_throughput_per_user'], csvNames: ['output token throughput per user'],
  },
  isl: {
    label: 'Input sequence length', unit: 'tokens', better: 'neither',
    tags: ['input_sequence_length', 'isl'], csvNames: ['input sequence length'],
  },
  osl: {
    label: 'Output sequence length', unit: 'tokens', better: 'neither',
    tags: ['output_sequence_length', 'osl'], csvNames: ['output sequence length', 'num output token'],
  },
  outputTokenCount: {
    label: 'Output tokens excluding reasoning', unit: 'tokens', better: 'neither',
    tags: ['output_token_count'], csvNames: ['output token count'],
  },
  reasoningTokenCount: {
    label: 'Reasoning tokens', unit: 'tokens', better: 'neither',
    tags: ['reasoning_token_count'], csvNames: ['reasoning token count'],
  },
} as const satisfies Record<string, MetricInfo>;

/** Run-level metrics: one number per run. */
export const SCALAR_METRICS = {
  requestThroughputPerS: {
    label: 'Request throughput', unit: 'requests/sec', better: 'higher',
    tags: ['request_throughput'], csvNames: ['request throughput'],
  },
  outputTokenThroughputPerS: {
    label: 'Output token throughput', unit: 'tokens/sec', better: 'higher',
    tags: ['output_token_throughput'], csvNames: ['output token throughput'],
  },
  goodputPerS: {
    label: 'Goodput', unit: 'requests/sec', better: 'higher',
    tags: ['request_goodput', 'goodput'], csvNames: ['request goodput', 'goodput'],
  },
  goodRequestCount: {
    label: 'Good requests', unit: 'requests', better: 'higher',
    tags: ['good_request_count'], csvNames: ['good request count'],
  },
  requestCount: {
    label: 'Requests with output', unit: 'requests', better: 'neither',
    tags: ['request_count'], csvNames: ['request count'],
  },
  errorCount: {
    label: 'Failed requests', unit: 'requests', better: 'lower',
    tags: ['error_request_count'], csvNames: ['error request count'],
  },
  benchmarkDurationS: {
    label: 'Benchmark duration', unit: 'sec', better: 'neither',
    tags: ['benchmark_duration'], csvNames: ['benchmark duration'],
  },
  totalIsl: {
    label: 'Total input tokens', unit: 'tokens', better: 'neither',
    tags: ['total_isl'], csvNames: ['total input sequence length'],
  },
  totalOsl: {
    label: 'Total output tokens', unit: 'tokens', better: 'neither',
    tags: ['total_osl'], csvNames: ['total output sequence length'],
  },
  totalOutputTokenCount: {
    label: 'Total output tokens excluding reasoning', unit: 'tokens', better: 'neither',
    tags: ['total_output_tokens'], csvNames: ['total output tokens'],
  },
  totalReasoningTokenCount: {
    label: 'Total reasoning tokens', unit: 'tokens', better: 'neither',
    tags: ['total_reasoning_tokens'], csvNames: ['total reasoning tokens'],
  },
  minRequestTimestampNs: {
    label: 'First request sent', unit: 'ns', better: 'neither',
    tags: ['min_request_timestamp'], csvNames: ['minimum request timestamp'],
  },
  maxResponseTimestampNs: {
    label: 'Last response received', unit: 'ns', better: 'neither',
    tags: ['max_response_timestamp'], csvNames: ['maximum response timestamp'],
  },
} as const satisfies Record<string, MetricInfo>;

export type DistributionMetricKey = keyof typeof DISTRIBUTION_METRICS;
export type ScalarMetricKey = keyof typeof SCALAR_METRICS;
export type MetricKey = DistributionMetricKey | ScalarMetricKey;

export const DISTRIBUTION_METRIC_KEYS = Object.keys(DISTRIBUTION_METRICS) as DistributionMetricKey[];
export const SCALAR_METRIC_KEYS = Object.keys(SCALAR_METRICS) as ScalarMetricKey[];

export function metricInfo(key: MetricKey): MetricInfo {
  return (DISTRIBUTION_METRICS as Record<string, MetricInfo>)[key] ?? (SCALAR_METRICS as Record<string, MetricInfo>)[key]!;
}

const byTag = new Map<string, MetricKey>();
const byCsvName = new Map<string, MetricKey>();
for (const [key, info] of Object.entries({ ...DISTRIBUTION_METRICS, ...SCALAR_METRICS }) as [MetricKey, MetricInfo][]) {
  for (const t of info.tags) byTag.set(t, key);
  for (const c of info.csvNames) byCsvName.set(c, key);
}

/** Our key for a tool's metric tag (`time_to_first_token`, `ttft`, …), or undefined. */
export function metricKeyForTag(tag: string): MetricKey | undefined {
  return byTag.get(tag);
}

/** Our key for a CSV row name such as "Time To First Token (ms)", plus the unit in parentheses. */
export function metricKeyForCsvName(rowName: string): { key: MetricKey | undefined; unit: string | null } {
  const m = /^(.*?)\s*\(([^()]*)\)\s*$/.exec(rowName.trim());
  const name = (m ? m[1]! : rowName).trim().toLowerCase();
  return { key: byCsvName.get(name), unit: m ? m[2]!.trim() : null };
}

export function isDistributionKey(key: MetricKey): key is DistributionMetricKey {
  return key in DISTRIBUTION_METRICS;
}

/**
 * Factor that converts a value in `unit` to the metric's own unit, or null when the units are not
 * convertible. AIPerf's schema says `unit` is authoritative, so values are converted, never assumed.
 */
export function unitFactor(from: string, to: string): number | null {
  const norm = (u: string) => u.trim().toLowerCase();
  const f = norm(from);
  const t = norm(to);
  if (f === t) return 1;
  const time: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, sec: 1, seconds: 1 };
  if (f in time && t in time) return time[f]! / time[t]!;
  const synonyms: Record<string, string> = {
    count: 'requests', 'per sec': 'requests/sec', 'requests/s': 'requests/sec', 'req/s': 'requests/sec',
    'tokens/s': 'tokens/sec', 'tok/s': 'tokens/sec', 'tokens/s/user': 'tokens/sec/user', token: 'tokens',
  };
  if ((synonyms[f] ?? f) === (synonyms[t] ?? t)) return 1;
  return null;
}
