import type { RequestRecord } from '../run-record';

/**
 * Per-request metrics from one record, as reference/genai-perf.md §4.2 defines them. Times are in
 * the record's nanoseconds; a metric that cannot be computed for this request is undefined.
 */
export interface RequestMetrics {
  latencyNs?: number;
  ttftNs?: number;
  ttstNs?: number;
  ttfoNs?: number;
  itlNs?: number;
  /** 1 / ITL in seconds: the decode speed one user sees. */
  tpsPerUser?: number;
  isl?: number;
  osl?: number;
  outputTokenCount?: number;
  reasoningTokenCount?: number;
}

/**
 * The output sequence length used by every token metric: the tool's re-tokenized count when there
 * is one (what GenAI-Perf and AIPerf report), else the server's usage count, else the number of
 * chunks with text (exact only when each chunk carries one token).
 */
export function outputSequenceLength(rec: RequestRecord): number | undefined {
  const o = rec.outputTokens;
  return o.tokenizer ?? o.usage ?? o.chunks ?? undefined;
}

/** True when the request failed; failed requests only count as errors. */
export function isErrorRecord(rec: RequestRecord): boolean {
  return rec.error !== null;
}

/** True when the request succeeded with at least one token response (it enters every metric). */
export function hasTokens(rec: RequestRecord): boolean {
  return rec.error === null && rec.lastTokenNs !== null && rec.firstTokenNs !== null;
}

/**
 * `streaming` false drops TTFT, TTST, TTFO, ITL and TPS/user: without streaming the first response
 * is the whole answer, so a "TTFT" would only be the latency again (reference §6 pitfall 12).
 */
export function requestMetrics(rec: RequestRecord, streaming = true): RequestMetrics {
  const m: RequestMetrics = {};
  if (rec.inputTokens !== null) m.isl = rec.inputTokens;
  if (!hasTokens(rec)) return m;
  const first = rec.firstTokenNs as number;
  const last = rec.lastTokenNs as number;
  m.latencyNs = last - rec.sendNs;
  const osl = outputSequenceLength(rec);
  if (osl !== undefined) m.osl = osl;
  const o = rec.outputTokens;
  if (o.reasoning != null && o.tokenizer != null) {
    // AIPerf has no output_token_count / reasoning_token_count for a record without that kind of
    // text, and a zero here means exactly that.
    const content = o.tokenizer - o.reasoning;
    if (content > 0) m.outputTokenCount = content;
    if (o.reasoning > 0) m.reasoningTokenCount = o.reasoning;
  }
  if (!streaming) return m;
  m.ttftNs = first - rec.sendNs;
  if (rec.firstContentNs != null) m.ttfoNs = rec.firstContentNs - rec.sendNs;
  const chunks = rec.chunkNs;
  if (chunks && chunks.length >= 2) m.ttstNs = (chunks[1] as number) - (chunks[0] as number);
  // ITL divides the decode time over the tokens after the first. GenAI-Perf also requires more than
  // one response: with a single response latency equals TTFT, ITL would be 0 and TPS/user infinite.
  if (osl !== undefined && osl >= 2 && last > first) {
    m.itlNs = (m.latencyNs - m.ttftNs) / (osl - 1);
    m.tpsPerUser = 1e9 / m.itlNs;
  }
  return m;
}
