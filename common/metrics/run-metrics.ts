import type { RequestRecord } from '../run-record';
import { isGood, type DisplayValues, type Slos } from './goodput';
import type { DistributionMetricKey, ScalarMetricKey } from './metric-keys';
import { hasTokens, requestMetrics, type RequestMetrics } from './request-metrics';
import { summarize, type Stats } from './stats';

/** Aggregates of one run, keyed by our metric names (metric-keys.ts); absent = not applicable. */
export interface RunMetrics {
  scalars: Partial<Record<ScalarMetricKey, number>>;
  distributions: Partial<Record<DistributionMetricKey, Stats>>;
}

export interface RunMetricsOptions {
  /** False for non-streaming runs: TTFT, TTST, ITL, ICL and TPS/user are then omitted. Default true. */
  streaming?: boolean;
  /** Goodput objectives; goodput is computed only when given. */
  slos?: Slos;
}

const NS_PER_MS = 1e6;

/** Per-request values in display units (ms, tokens, tokens/sec/user), keyed like RunMetrics. */
export function displayValues(m: RequestMetrics): DisplayValues {
  const v: DisplayValues = {};
  if (m.ttftNs !== undefined) v.ttftMs = m.ttftNs / NS_PER_MS;
  if (m.ttstNs !== undefined) v.ttstMs = m.ttstNs / NS_PER_MS;
  if (m.ttfoNs !== undefined) v.ttfoMs = m.ttfoNs / NS_PER_MS;
  if (m.itlNs !== undefined) v.itlMs = m.itlNs / NS_PER_MS;
  if (m.latencyNs !== undefined) v.requestLatencyMs = m.latencyNs / NS_PER_MS;
  if (m.tpsPerUser !== undefined) v.tpsPerUser = m.tpsPerUser;
  if (m.isl !== undefined) v.isl = m.isl;
  if (m.osl !== undefined) v.osl = m.osl;
  if (m.outputTokenCount !== undefined) v.outputTokenCount = m.outputTokenCount;
  if (m.reasoningTokenCount !== undefined) v.reasoningTokenCount = m.reasoningTokenCount;
  return v;
}

/**
 * Run-level metrics from per-request records (reference/genai-perf.md §4.3–4.4):
 * - warmup records are ignored; records with an error count only as errors;
 * - requests with at least one token response enter every per-request metric and `requestCount`;
 * - duration = last token of any such request − first send of any such request;
 * - request throughput = successful requests (with or without tokens, as GenAI-Perf counts them)
 *   ÷ duration; output token throughput = ΣOSL ÷ duration; goodput = good requests ÷ duration;
 * - each distribution weighs every request equally (ICL pools every chunk gap instead).
 */
export function computeRunMetrics(records: readonly RequestRecord[], opts: RunMetricsOptions = {}): RunMetrics {
  const streaming = opts.streaming ?? true;
  const slos = opts.slos && Object.keys(opts.slos).length > 0 ? opts.slos : undefined;
  const cols: Record<DistributionMetricKey, number[]> = {
    ttftMs: [], ttstMs: [], ttfoMs: [], itlMs: [], iclMs: [], requestLatencyMs: [], tpsPerUser: [],
    isl: [], osl: [], outputTokenCount: [], reasoningTokenCount: [],
  };
  let errors = 0;
  let succeeded = 0;
  let withTokens = 0;
  let good = 0;
  let minSend = Infinity;
  let maxLast = -Infinity;
  let totalIsl = 0;
  let islKnown = 0;
  let totalOsl = 0;
  let totalContent = 0;
  let totalReasoning = 0;
  let reasoningKnown = false;
  // Chunk gaps are pooled over every request: millions of values, so a growable typed array.
  let icl = new Float64Array(4096);
  let iclN = 0;

  for (const rec of records) {
    if (rec.phase === 'warmup') continue;
    if (rec.error !== null) {
      errors++;
      continue;
    }
    succeeded++;
    if (!hasTokens(rec)) continue;
    withTokens++;
    if (rec.sendNs < minSend) minSend = rec.sendNs;
    if ((rec.lastTokenNs as number) > maxLast) maxLast = rec.lastTokenNs as number;
    const m = requestMetrics(rec, streaming);
    // Direct pushes rather than a display-value object per request: this loop runs 100 k times per import.
    if (m.ttftNs !== undefined) cols.ttftMs.push(m.ttftNs / NS_PER_MS);
    if (m.ttstNs !== undefined) cols.ttstMs.push(m.ttstNs / NS_PER_MS);
    if (m.ttfoNs !== undefined) cols.ttfoMs.push(m.ttfoNs / NS_PER_MS);
    if (m.itlNs !== undefined) cols.itlMs.push(m.itlNs / NS_PER_MS);
    if (m.latencyNs !== undefined) cols.requestLatencyMs.push(m.latencyNs / NS_PER_MS);
    if (m.tpsPerUser !== undefined) cols.tpsPerUser.push(m.tpsPerUser);
    if (m.isl !== undefined) cols.isl.push(m.isl);
    if (m.osl !== undefined) cols.osl.push(m.osl);
    if (m.outputTokenCount !== undefined) cols.outputTokenCount.push(m.outputTokenCount);
    if (m.reasoningTokenCount !== undefined) cols.reasoningTokenCount.push(m.reasoningTokenCount);
    if (m.isl !== undefined) {
      totalIsl += m.isl;
      islKnown++;
    }
    if (m.osl !== undefined) totalOsl += m.osl;
    if (rec.outputTokens.reasoning != null) reasoningKnown = true;
    totalContent += m.outputTokenCount ?? 0;
    totalReasoning += m.reasoningTokenCount ?? 0;
    if (streaming && rec.chunkNs) {
      const c = rec.chunkNs;
      if (iclN + c.length > icl.length) {
        const grown = new Float64Array(Math.max(icl.length * 2, iclN + c.length));
        grown.set(icl.subarray(0, iclN));
        icl = grown;
      }
      for (let i = 1; i < c.length; i++) icl[iclN++] = ((c[i] as number) - (c[i - 1] as number)) / NS_PER_MS;
    }
    if (slos && isGood(displayValues(m), slos)) good++;
  }

  const distributions: RunMetrics['distributions'] = {};
  for (const k of Object.keys(cols) as DistributionMetricKey[]) {
    const s = summarize(k === 'iclMs' ? icl.subarray(0, iclN) : cols[k]);
    if (s) distributions[k] = s;
  }
  const scalars: RunMetrics['scalars'] = { requestCount: withTokens, errorCount: errors };
  if (withTokens > 0) {
    const durationS = (maxLast - minSend) / 1e9;
    scalars.benchmarkDurationS = durationS;
    scalars.minRequestTimestampNs = minSend;
    scalars.maxResponseTimestampNs = maxLast;
    if (durationS > 0) {
      scalars.requestThroughputPerS = succeeded / durationS;
      if (cols.osl.length > 0) scalars.outputTokenThroughputPerS = totalOsl / durationS;
      if (slos) scalars.goodputPerS = good / durationS;
    }
    if (cols.osl.length > 0) scalars.totalOsl = totalOsl;
    if (islKnown > 0) scalars.totalIsl = totalIsl;
    if (reasoningKnown) {
      scalars.totalOutputTokenCount = totalContent;
      scalars.totalReasoningTokenCount = totalReasoning;
    }
    if (slos) scalars.goodRequestCount = good;
  }
  return { scalars, distributions };
}
