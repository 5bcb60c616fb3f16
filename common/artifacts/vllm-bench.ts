import { UserFacingError } from '../errors';
import type { RequestRecord, Workload } from '../run-record';
import { definedOnly, type ArtifactReading } from './artifact-reading';
import { emptyReported, type ReportedStats, type StatKey } from './imported-run';
import { JsonObject, numAt, parseArtifact, parseJsonText, strAt } from './parse-json';
import { addReported } from './reported';
import type { MetricKey } from '../metrics/metric-keys';

/**
 * vLLM's per-metric names (vllm-disagg.md §5). vLLM's TPOT is (latency − TTFT)/(output tokens − 1)
 * per request — our ITL — while vLLM's "ITL" is the gap between chunks, pooled over all chunks:
 * our ICL.
 */
const VLLM_METRICS: Record<string, MetricKey> = { ttft: 'ttftMs', tpot: 'itlMs', itl: 'iclMs', e2el: 'requestLatencyMs' };
const VLLM_SCALARS: Record<string, MetricKey> = {
  completed: 'requestCount', failed: 'errorCount', duration: 'benchmarkDurationS',
  request_throughput: 'requestThroughputPerS', request_goodput: 'goodputPerS', output_throughput: 'outputTokenThroughputPerS',
  total_input_tokens: 'totalIsl', total_output_tokens: 'totalOsl',
};

function numArray(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}

/** `vllm bench serve --save-result` JSON (and the older benchmark_serving.py), with --save-detailed arrays when present. */
export function readVllmBench(fileName: string, text: string): ArtifactReading {
  const what = 'a `vllm bench serve` result JSON';
  const doc = parseArtifact(JsonObject, parseJsonText(text, fileName, what), fileName, what);
  if (typeof doc.completed !== 'number' || typeof doc.duration !== 'number') {
    throw new UserFacingError('artifact-schema', `${fileName} has no "completed" and "duration" numbers, so it is not a vllm bench serve result.`);
  }
  const rep = emptyReported(null);
  const notes: string[] = [];
  for (const [k, key] of Object.entries(VLLM_SCALARS)) {
    const v = doc[k] ?? (k === 'request_goodput' ? doc['request_goodput:'] : undefined);
    if (typeof v === 'number') addReported(rep, k, null, { avg: v }, key);
  }
  for (const [m, key] of Object.entries(VLLM_METRICS)) {
    const stats: ReportedStats = {};
    const put = (s: StatKey, v: unknown) => {
      if (typeof v === 'number') stats[s] = v;
    };
    put('avg', doc[`mean_${m}_ms`]);
    put('p50', doc[`median_${m}_ms`]);
    put('std', doc[`std_${m}_ms`]);
    for (const p of [1, 5, 10, 25, 50, 75, 90, 95, 99]) put(`p${p}` as StatKey, doc[`p${p}_${m}_ms`]);
    if (Object.keys(stats).length) addReported(rep, m, 'ms', stats, key);
  }
  const requestRate = doc.request_rate;
  const burstiness = numAt(doc, 'burstiness');
  const workload = definedOnly<Workload>({
    model: strAt(doc, 'model_id'),
    tokenizer: strAt(doc, 'tokenizer_id'),
    endpointType: strAt(doc, 'endpoint_type') ?? strAt(doc, 'backend'),
    concurrency: numAt(doc, 'max_concurrency'),
    requestRate: typeof requestRate === 'number' && Number.isFinite(requestRate) ? requestRate : undefined,
    arrival: typeof requestRate === 'number' && Number.isFinite(requestRate) ? (burstiness === undefined || burstiness === 1 ? 'poisson' : 'gamma') : undefined,
    requestCount: numAt(doc, 'num_prompts'),
  });

  const ttfts = numArray(doc.ttfts);
  const n = ttfts?.length ?? 0;
  let requests: RequestRecord[] | undefined;
  let streaming: boolean | undefined;
  if (ttfts && n > 0) {
    const itls = Array.isArray(doc.itls) ? (doc.itls as unknown[]) : [];
    const latencies = numArray(doc.latencies);
    const starts = numArray(doc.start_times);
    const inLens = numArray(doc.input_lens);
    const outLens = numArray(doc.output_lens);
    const errors = Array.isArray(doc.errors) ? (doc.errors as unknown[]) : [];
    if (!starts) notes.push(`${fileName} has no start_times (older vLLM): per-request distributions are recomputed, throughputs are not.`);
    requests = [];
    for (let i = 0; i < n; i++) {
      const sendNs = (starts?.[i] ?? 0) * 1e9;
      const errText = errors[i];
      const rec: RequestRecord = { id: String(i), sendNs, firstTokenNs: null, lastTokenNs: null, inputTokens: inLens?.[i] ?? null, outputTokens: { usage: null, chunks: null }, error: null };
      if (typeof errText === 'string' && errText !== '') {
        rec.error = { code: null, type: null, message: errText };
        requests.push(rec);
        continue;
      }
      const gaps = numArray(itls[i]) ?? [];
      const ttftS = ttfts[i]!;
      const first = sendNs + ttftS * 1e9;
      const chunks = [first];
      let t = first;
      for (const g of gaps) chunks.push((t += g * 1e9));
      const latS = latencies?.[i] ?? ttftS + gaps.reduce((a, b) => a + b, 0);
      rec.firstTokenNs = first;
      rec.lastTokenNs = sendNs + latS * 1e9;
      rec.chunkNs = chunks;
      // vLLM counts output tokens from the server's usage (or its tokenizer when usage is missing).
      rec.outputTokens = { usage: outLens?.[i] ?? null, chunks: chunks.length };
      if (gaps.length > 0) streaming = true;
      requests.push(rec);
    }
    streaming ??= false;
    notes.push(`${fileName}: vLLM's duration runs from the start of the benchmark to its end; Handoff's runs from the first request sent to the last token received, so throughputs differ slightly.`);
  } else {
    notes.push(`${fileName} has no per-request arrays (run without --save-detailed); only vLLM's own summary is shown.`);
  }
  const reading: ArtifactReading = { kind: 'vllm-bench-json', schema: ttfts ? 'vllm bench serve result (--save-detailed)' : 'vllm bench serve result', toolVersion: null, workload, reported: rep, notes, startedAt: strAt(doc, 'date') ?? null };
  if (requests) reading.requests = requests;
  if (streaming !== undefined) reading.streaming = streaming;
  if (requests && numArray(doc.start_times) === undefined) reading.noTimeline = true;
  return reading;
}
