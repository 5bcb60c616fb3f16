import { z } from 'zod';
import { isErrorRecord, requestMetrics } from './metrics/request-metrics';
import { displayValues } from './metrics/run-metrics';
import { sumSeries } from './metrics/prom-text';
import type { MetricSample, RequestRecord } from './run-record';
import { decodeFloat32, encodeFloat32 } from './float32-base64';
import { NixlTransferSeries } from './kv/nixl-transfer-series';

/**
 * What the run view charts are drawn from (runs.series): one value per profiling request, in
 * compact columns, and the time series sampled during the run. The renderer bins, sorts and
 * downsamples these itself (reference/desktop.md §5.2), so a 100,000-request run crosses the API
 * as a few columns rather than 100,000 objects with every chunk timestamp (packed on the wire).
 */

const Num = z.number();
const NumOrNull = z.number().nullable();

export const RequestColumns = z.object({
  /** Profiling requests (warmup excluded), failed ones included; every column has this length. */
  count: z.int().nonnegative(),
  /** Send time, seconds after the first profiling request was sent. */
  sendS: z.array(Num),
  /** Null where the metric does not exist for that request (failed, non-streaming, one token). */
  ttftMs: z.array(NumOrNull),
  itlMs: z.array(NumOrNull),
  latencyMs: z.array(NumOrNull),
  isl: z.array(NumOrNull),
  osl: z.array(NumOrNull),
  /** 1 for a failed request. */
  failed: z.array(z.union([z.literal(0), z.literal(1)])),
});
export type RequestColumns = z.infer<typeof RequestColumns>;

export const SeriesLine = z.object({
  /** `decode-0 running`, `gpu1 GPU 0`, … */
  label: z.string(),
  /** Seconds since the run's origin. */
  tS: z.array(Num),
  v: z.array(Num),
});
export type SeriesLine = z.infer<typeof SeriesLine>;

export const RunTimeSeries = z.object({
  id: z.enum(['queue', 'kv-cache', 'gpu-util']),
  title: z.string(),
  unit: z.enum(['requests', '%']),
  lines: z.array(SeriesLine),
});
export type RunTimeSeries = z.infer<typeof RunTimeSeries>;

export const KvTransferInterval = z.object({
  /** End of the sampling interval, seconds since the run's origin. */
  tS: Num,
  msPerBlock: Num,
  blocks: Num,
});

export const KvTransferSource = z.object({
  source: z.string(),
  bytesPerBlock: Num,
  /** Over the whole run (ratio of sums); null when no block moved between the first and last scrape. */
  runMsPerBlock: NumOrNull,
  blocks: NumOrNull,
  intervals: z.array(KvTransferInterval),
});
export type KvTransferSource = z.infer<typeof KvTransferSource>;

export const RunSeries = z.object({
  runId: z.string(),
  streaming: z.boolean(),
  /** Null when the run has no per-request records (summary-only imports). */
  requests: RequestColumns.nullable(),
  timeSeries: z.array(RunTimeSeries),
  kvTransfer: z.array(KvTransferSource),
  /** The fabric's per-block copy time (kvprobe, or the mocker's model) to draw as a reference line. */
  fabric: z.object({ msPerBlock: Num, source: z.string() }).nullable(),
  /** Per-transfer NIXL telemetry (transfers.jsonl), when the run has it. */
  nixlTransfers: NixlTransferSeries.nullable().optional(),
});
export type RunSeries = z.infer<typeof RunSeries>;

// ---------------------------------------------------------------- on the wire

/**
 * One number per request as little-endian float32, base64: a 100,000-request column is 533 kB of
 * text that JSON and the schema check pass over in a blink, where an array of 100,000 numbers costs
 * hundreds of milliseconds to parse and validate in the page. NaN marks a value that does not exist
 * for that request. Float32 keeps 7 significant digits: plenty for charts (the KPI figures come from
 * the run's statistics, computed in float64).
 */
const Float32Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const COLUMN_NAMES = ['sendS', 'ttftMs', 'itlMs', 'latencyMs', 'isl', 'osl', 'failed'] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

export const PackedRequestColumns = z.object({
  /** Profiling requests (warmup excluded), failed ones included; every column has this many values. */
  count: z.int().nonnegative(),
  encoding: z.literal('float32-le-base64'),
  /**
   * sendS: seconds after the first profiling request was sent; ttftMs, itlMs, latencyMs: NaN where
   * the metric does not exist (failed, non-streaming, one token); isl, osl: tokens; failed: 1 or 0.
   */
  columns: z.object(Object.fromEntries(COLUMN_NAMES.map((n) => [n, Float32Base64])) as Record<ColumnName, typeof Float32Base64>),
});
export type PackedRequestColumns = z.infer<typeof PackedRequestColumns>;

/** The columns as typed arrays, in send order. */
export type DecodedColumns = { count: number } & Record<ColumnName, Float32Array>;

export function decodeRequestColumns(c: PackedRequestColumns): DecodedColumns {
  const out = { count: c.count } as DecodedColumns;
  for (const n of COLUMN_NAMES) out[n] = decodeFloat32(c.columns[n], c.count, n);
  return out;
}

/** runs.series as sent to the renderer: the same, with the request columns packed. */
export const PackedRunSeries = RunSeries.extend({ requests: PackedRequestColumns.nullable() });
export type PackedRunSeries = z.infer<typeof PackedRunSeries>;

export function packRequestColumns(c: RequestColumns): PackedRequestColumns {
  const col = (values: ReadonlyArray<number | null>) => encodeFloat32(values.map((v) => (v === null ? NaN : v)));
  return {
    count: c.count,
    encoding: 'float32-le-base64',
    columns: { sendS: col(c.sendS), ttftMs: col(c.ttftMs), itlMs: col(c.itlMs), latencyMs: col(c.latencyMs), isl: col(c.isl), osl: col(c.osl), failed: col(c.failed) },
  };
}

export function packRunSeries(s: RunSeries): PackedRunSeries {
  return { ...s, requests: s.requests ? packRequestColumns(s.requests) : null };
}

/** summary.json kvTransfer entries as the agent writes them (common/bench-rpc.ts BenchSummary). */
const BlockLatencyJson = z.object({ perBlockS: Num, blocks: Num, fromMs: Num, toMs: Num }).passthrough();
const SummaryKvEntry = z
  .object({ source: z.string(), bytesPerBlock: Num, run: BlockLatencyJson.nullable(), intervals: z.array(BlockLatencyJson) })
  .passthrough();

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Per-request columns of the profiling requests, in send order. */
export function requestColumns(records: readonly RequestRecord[], streaming: boolean): RequestColumns {
  const profiling = records.filter((r) => r.phase !== 'warmup').sort((a, b) => a.sendNs - b.sendNs);
  const n = profiling.length;
  const cols: RequestColumns = { count: n, sendS: new Array(n), ttftMs: new Array(n), itlMs: new Array(n), latencyMs: new Array(n), isl: new Array(n), osl: new Array(n), failed: new Array(n) };
  const t0 = n ? profiling[0]!.sendNs : 0;
  // Rounded to 0.1 µs and 1 µs: far below what a chart shows, and it halves the JSON.
  const ms = (v: number | undefined) => (v === undefined ? null : round(v, 4));
  for (let i = 0; i < n; i++) {
    const r = profiling[i]!;
    const v = displayValues(requestMetrics(r, streaming));
    cols.sendS[i] = round((r.sendNs - t0) / 1e9, 6);
    cols.ttftMs[i] = ms(v.ttftMs);
    cols.itlMs[i] = ms(v.itlMs);
    cols.latencyMs[i] = ms(v.requestLatencyMs);
    cols.isl[i] = v.isl ?? null;
    cols.osl[i] = v.osl ?? null;
    cols.failed[i] = isErrorRecord(r) ? 1 : 0;
  }
  return cols;
}

const RUNNING = 'vllm:num_requests_running';
const WAITING = 'vllm:num_requests_waiting';
const KV_USAGE = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'];

function pushPoint(map: Map<string, SeriesLine>, label: string, tS: number, v: number | undefined | null): void {
  if (v === undefined || v === null || !Number.isFinite(v)) return;
  let line = map.get(label);
  if (!line) map.set(label, (line = { label, tS: [], v: [] }));
  line.tS.push(round(tS, 3));
  line.v.push(round(v, 4));
}

/**
 * Running/waiting requests and KV-cache usage of each worker that exports them (the router does
 * not), and each GPU's utilisation, from samples.jsonl. Label sets of one metric (engines, models)
 * are summed per source, as one worker's figure.
 */
export function runTimeSeries(samples: readonly MetricSample[]): RunTimeSeries[] {
  const queue = new Map<string, SeriesLine>();
  const kv = new Map<string, SeriesLine>();
  const gpu = new Map<string, SeriesLine>();
  const sorted = [...samples].sort((a, b) => a.tMs - b.tMs);
  const hosts = new Set<string>();
  for (const s of sorted) if (s.kind === 'gpu') hosts.add(s.host);
  for (const s of sorted) {
    const tS = s.tMs / 1000;
    if (s.kind === 'prometheus') {
      pushPoint(queue, `${s.source} running`, tS, sumSeries(s.values, RUNNING));
      pushPoint(queue, `${s.source} waiting`, tS, sumSeries(s.values, WAITING));
      const usage = KV_USAGE.map((name) => sumSeries(s.values, name)).find((v) => v !== undefined);
      pushPoint(kv, s.source, tS, usage === undefined ? undefined : usage * 100);
    } else {
      for (const g of s.gpus) pushPoint(gpu, hosts.size > 1 ? `${s.host} GPU ${g.index}` : `GPU ${g.index}`, tS, g.utilizationPct);
    }
  }
  const out: RunTimeSeries[] = [];
  if (queue.size) out.push({ id: 'queue', title: 'Running / waiting requests', unit: 'requests', lines: [...queue.values()] });
  if (kv.size) out.push({ id: 'kv-cache', title: 'KV cache usage', unit: '%', lines: [...kv.values()] });
  if (gpu.size) out.push({ id: 'gpu-util', title: 'GPU utilisation', unit: '%', lines: [...gpu.values()] });
  return out;
}

/** The agent's per-block KV-transfer figures (summary.json), in ms; entries it cannot read are skipped. */
export function kvTransferSources(summaryKv: readonly unknown[]): KvTransferSource[] {
  const out: KvTransferSource[] = [];
  for (const raw of summaryKv) {
    const e = SummaryKvEntry.safeParse(raw);
    if (!e.success) continue;
    const { source, bytesPerBlock, run, intervals } = e.data;
    out.push({
      source,
      bytesPerBlock,
      runMsPerBlock: run ? run.perBlockS * 1e3 : null,
      blocks: run ? run.blocks : null,
      intervals: intervals.map((i) => ({ tS: round(i.toMs / 1000, 3), msPerBlock: i.perBlockS * 1e3, blocks: i.blocks })),
    });
  }
  return out;
}

export interface RunSeriesInput {
  runId: string;
  streaming: boolean;
  /** Null when the run has no requests.jsonl worth showing. */
  records: readonly RequestRecord[] | null;
  samples: readonly MetricSample[];
  summaryKvTransfer: readonly unknown[];
  fabric?: { msPerBlock: number; source: string } | null;
}

export function buildRunSeries(input: RunSeriesInput): RunSeries {
  return {
    runId: input.runId,
    streaming: input.streaming,
    requests: input.records && input.records.length ? requestColumns(input.records, input.streaming) : null,
    timeSeries: runTimeSeries(input.samples),
    kvTransfer: kvTransferSources(input.summaryKvTransfer),
    fabric: input.fabric ?? null,
  };
}
