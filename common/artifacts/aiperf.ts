import { z } from 'zod';
import { UserFacingError } from '../errors';
import type { RequestRecord, Workload } from '../run-record';
import { definedOnly, type ArtifactReading } from './artifact-reading';
import { emptyReported } from './imported-run';
import { at, JsonObject, numAt, parseArtifact, parseJsonText, strAt } from './parse-json';
import { mayHoldSecret, redactLines } from './redact';
import { addReported } from './reported';

/** Workload from AIPerf's input_config (UserConfig) and, in schema 1.x, run_info. */
export function aiperfWorkload(ic: unknown, runInfo?: unknown): Workload {
  const models = at(ic, 'endpoint', 'model_names');
  const mode = strAt(ic, 'loadgen', 'request_rate_mode') ?? strAt(ic, 'loadgen', 'arrival_pattern');
  const goodput = at(ic, 'input', 'goodput') ?? at(ic, 'goodput');
  const slos: Record<string, number> = {};
  if (goodput && typeof goodput === 'object') {
    for (const [k, v] of Object.entries(goodput as Record<string, unknown>)) if (typeof v === 'number') slos[k] = v;
  }
  return definedOnly<Workload>({
    model: Array.isArray(models) && typeof models[0] === 'string' ? models[0] : undefined,
    endpointType: strAt(ic, 'endpoint', 'type'),
    streaming: typeof at(ic, 'endpoint', 'streaming') === 'boolean' ? (at(ic, 'endpoint', 'streaming') as boolean) : undefined,
    concurrency: numAt(ic, 'loadgen', 'concurrency'),
    requestRate: numAt(ic, 'loadgen', 'request_rate'),
    arrival: mode && /^(poisson|constant|gamma)$/i.test(mode) ? mode.toLowerCase() : undefined,
    requestCount: numAt(ic, 'loadgen', 'request_count'),
    warmupRequestCount: numAt(ic, 'loadgen', 'warmup_request_count'),
    durationS: numAt(ic, 'loadgen', 'benchmark_duration'),
    islMean: numAt(ic, 'input', 'prompt', 'input_tokens', 'mean'),
    islStddev: numAt(ic, 'input', 'prompt', 'input_tokens', 'stddev'),
    oslMean: numAt(ic, 'input', 'prompt', 'output_tokens', 'mean'),
    oslStddev: numAt(ic, 'input', 'prompt', 'output_tokens', 'stddev'),
    randomSeed: numAt(ic, 'input', 'random_seed') ?? numAt(runInfo, 'random_seed'),
    tokenizer: strAt(ic, 'tokenizer', 'name'),
    goodput: Object.keys(slos).length ? slos : undefined,
  });
}

const TOP_LEVEL_NON_METRICS = new Set(['input_config', 'telemetry_data', 'error_summary', 'was_cancelled', 'start_time', 'end_time', 'schema_version', 'aiperf_version', 'benchmark_id', 'run_info', 'warmup_metrics', 'runtime_submission_invalid_reasons', 'records', 'server_metrics']);

/**
 * `profile_export_aiperf.json` in each schema generation (reference §3.5): v0.1.0 wraps metrics in
 * `records`; v0.1.1+ is flat, one key per tag (values may be null); schema 1.x adds schema_version,
 * aiperf_version, run_info and `count`/`sum` per metric. Units are authoritative and converted.
 */
export function readAiperfJson(fileName: string, text: string): ArtifactReading {
  const what = "AIPerf's profile_export_aiperf.json";
  const doc = parseArtifact(JsonObject, parseJsonText(text, fileName, what), fileName, what);
  const rep = emptyReported(null);
  const notes: string[] = [];
  let schema: string;
  const records = doc.records;
  const schemaVersion = doc.schema_version;
  if (records && typeof records === 'object' && !Array.isArray(records)) {
    schema = 'aiperf-json v0.1.0 (records wrapper)';
    for (const [tag, v] of Object.entries(records as Record<string, unknown>)) {
      if (v && typeof v === 'object') addReported(rep, tag, strAt(v, 'unit') ?? null, v as Record<string, unknown>);
    }
  } else {
    schema = schemaVersion !== undefined ? `aiperf-json schema ${String(schemaVersion)}` : 'aiperf-json flat (v0.1.1+)';
    const metricSource = doc.metrics && typeof doc.metrics === 'object' && !Array.isArray(doc.metrics) ? { ...doc, ...(doc.metrics as Record<string, unknown>) } : doc;
    for (const [tag, v] of Object.entries(metricSource)) {
      if (TOP_LEVEL_NON_METRICS.has(tag) || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
      const unit = strAt(v, 'unit');
      if (unit === undefined) continue;
      addReported(rep, tag, unit, v as Record<string, unknown>);
    }
  }
  if (Object.keys(rep.scalars).length + Object.keys(rep.distributions).length === 0) {
    throw new UserFacingError('artifact-schema', `${fileName} has no AIPerf metrics (expected keys such as request_throughput or time_to_first_token, each {"unit", "avg", …}, or a "records" object).`);
  }
  if (doc.was_cancelled === true) notes.push(`${fileName}: the AIPerf run was cancelled before it finished.`);
  const errs = doc.error_summary;
  if (Array.isArray(errs) && errs.length > 0) {
    const parts = errs.map((e) => `${numAt(e, 'count') ?? '?'}× ${strAt(e, 'error_details', 'type') ?? 'error'} ${numAt(e, 'error_details', 'code') ?? ''}`.trim());
    notes.push(`${fileName}: errors reported: ${parts.join('; ')}.`);
  }
  return {
    kind: 'aiperf-json',
    schema,
    toolVersion: typeof doc.aiperf_version === 'string' ? doc.aiperf_version : null,
    workload: aiperfWorkload(doc.input_config, doc.run_info),
    reported: rep,
    streaming: typeof at(doc.input_config, 'endpoint', 'streaming') === 'boolean' ? (at(doc.input_config, 'endpoint', 'streaming') as boolean) : undefined,
    startedAt: strAt(doc, 'start_time') ?? null,
    finishedAt: strAt(doc, 'end_time') ?? null,
    notes,
  };
}

// One profile_export.jsonl line (reference §3.4). Lists are checked element by element in the
// conversion loop, which walks them anyway; zod checks the shape.
const MetricValue = z.object({ value: z.union([z.number(), z.custom<unknown[]>((v) => Array.isArray(v), 'expected a number or a list')]).nullable(), unit: z.string() });
const AiperfRecordLine = z.object({
  metadata: z.object({
    x_request_id: z.string().nullable().optional(),
    request_start_ns: z.number().optional(),
    timestamp_ns: z.number().optional(),
    benchmark_phase: z.string().optional(),
    credit_phase: z.string().optional(),
  }),
  metrics: z.record(z.string(), MetricValue),
  error: z.object({ code: z.number().nullable().optional(), type: z.string().nullable().optional(), message: z.string().nullable().optional() }).nullable().optional(),
});
type AiperfRecordLine = z.infer<typeof AiperfRecordLine>;

/**
 * The shape check of AiperfRecordLine written out by hand: zod builds a copy of every record, which
 * on a 100,000-request file cost as much as JSON.parse itself. A line that fails it goes through
 * zod, whose message names the field; both accept exactly the same records.
 */
function isRecordLine(v: unknown): v is AiperfRecordLine {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const md = o.metadata;
  if (md === null || typeof md !== 'object' || Array.isArray(md)) return false;
  const m = md as Record<string, unknown>;
  const rid = m.x_request_id;
  if (rid !== undefined && rid !== null && typeof rid !== 'string') return false;
  if (m.request_start_ns !== undefined && typeof m.request_start_ns !== 'number') return false;
  if (m.timestamp_ns !== undefined && typeof m.timestamp_ns !== 'number') return false;
  if (m.benchmark_phase !== undefined && typeof m.benchmark_phase !== 'string') return false;
  if (m.credit_phase !== undefined && typeof m.credit_phase !== 'string') return false;
  const metrics = o.metrics;
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) return false;
  for (const k in metrics) {
    const mv = (metrics as Record<string, unknown>)[k];
    if (mv === null || typeof mv !== 'object' || Array.isArray(mv)) return false;
    const { value, unit } = mv as Record<string, unknown>;
    if (typeof unit !== 'string') return false;
    if (value !== null && typeof value !== 'number' && !Array.isArray(value)) return false;
  }
  const e = o.error;
  if (e === undefined || e === null) return true;
  if (typeof e !== 'object' || Array.isArray(e)) return false;
  const err = e as Record<string, unknown>;
  const optional = (x: unknown, t: 'number' | 'string') => x === undefined || x === null || typeof x === t;
  return optional(err.code, 'number') && optional(err.type, 'string') && optional(err.message, 'string');
}

const NS_PER: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, sec: 1e9 };

function timeNs(m: AiperfRecordLine['metrics'], tags: string[], where: () => string): number | undefined {
  for (const t of tags) {
    const v = m[t];
    if (!v || v.value === null) continue;
    if (typeof v.value !== 'number') throw new UserFacingError('artifact-schema', `${where()}: metric ${t} should be a number.`);
    const f = NS_PER[v.unit];
    if (f === undefined) throw new UserFacingError('artifact-schema', `${where()}: metric ${t} has unit "${v.unit}", expected a time unit (ns, us, ms, sec).`);
    return v.value * f;
  }
  return undefined;
}

function count(m: AiperfRecordLine['metrics'], tag: string): number | null {
  const v = m[tag];
  return v && typeof v.value === 'number' ? v.value : null;
}

/**
 * `profile_export.jsonl`: one record per request, v0.1.1 (request_start_ns, benchmark_phase,
 * time_to_first_token) or the Oct-2025 pre-release (timestamp_ns, credit_phase, ttft/ttst).
 * Timestamps are rebuilt from the record's own metrics: first token = start + TTFT, each chunk =
 * previous + inter-chunk latency, last token = start + request latency.
 */
export function readAiperfJsonl(fileName: string, text: string): ArtifactReading {
  const requests: RequestRecord[] = [];
  let prerelease = false;
  let sawCurrent = false;
  let streaming = false;
  let lineNo = 0;
  let start = 0;
  const secretLines: number[] = [];
  const seen = new Map<string, boolean>();
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    const lastLine = end < 0;
    if (lastLine) end = n;
    lineNo++;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      if (lastLine && /^\s*\{/.test(line)) {
        throw new UserFacingError('artifact-truncated', `${fileName}, line ${lineNo}: the last record is cut off mid-way (no closing brace), so the file looks truncated. Was AIPerf still writing it? Copy the complete file and import again.`);
      }
      throw new UserFacingError('artifact-invalid', `${fileName}, line ${lineNo} is not JSON (${err instanceof Error ? err.message : String(err)}); expected one AIPerf record per line: {"metadata":…,"metrics":…,"error":…}.`);
    }
    if (mayHoldSecret(parsed, seen)) secretLines.push(lineNo - 1);
    let rec: AiperfRecordLine;
    if (isRecordLine(parsed)) rec = parsed;
    else {
      const r = AiperfRecordLine.safeParse(parsed);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        throw new UserFacingError('artifact-schema', `${fileName}, line ${lineNo}: field ${issue.path.join('.') || '(record)'}: ${issue.message}; expected an AIPerf record {"metadata":…,"metrics":…,"error":…}.`);
      }
      rec = r.data;
    }
    const where = () => `${fileName}, line ${lineNo}`;
    const md = rec.metadata;
    const m = rec.metrics;
    if (md.timestamp_ns !== undefined || md.credit_phase !== undefined || m.ttft !== undefined) prerelease = true;
    if (md.request_start_ns !== undefined || md.benchmark_phase !== undefined) sawCurrent = true;
    const sendNs = md.request_start_ns ?? md.timestamp_ns ?? (count(m, 'min_request_timestamp') ?? undefined);
    if (sendNs === undefined) throw new UserFacingError('artifact-schema', `${where()}: no request start time (metadata.request_start_ns or timestamp_ns).`);
    const phase = (md.benchmark_phase ?? md.credit_phase) === 'warmup' ? 'warmup' : 'profiling';
    const out: RequestRecord = {
      sendNs,
      firstTokenNs: null,
      lastTokenNs: null,
      inputTokens: count(m, 'input_sequence_length') ?? count(m, 'error_isl'),
      outputTokens: { usage: null, chunks: null },
      error: null,
    };
    if (md.x_request_id) out.id = md.x_request_id;
    if (phase === 'warmup') out.phase = 'warmup';
    if (rec.error) {
      out.error = { code: rec.error.code ?? null, type: rec.error.type ?? null, message: rec.error.message ?? '' };
      requests.push(out);
      continue;
    }
    const latencyNs = timeNs(m, ['request_latency'], where);
    if (latencyNs !== undefined) {
      const ttftNs = timeNs(m, ['time_to_first_token', 'ttft'], where);
      const ttfoNs = timeNs(m, ['time_to_first_output_token'], where);
      out.lastTokenNs = sendNs + latencyNs;
      out.firstTokenNs = ttftNs !== undefined ? sendNs + ttftNs : out.lastTokenNs;
      if (ttftNs !== undefined) streaming = true;
      if (ttfoNs !== undefined) out.firstContentNs = sendNs + ttfoNs;
      const icl = m.inter_chunk_latency;
      if (icl && Array.isArray(icl.value) && ttftNs !== undefined) {
        const f = NS_PER[icl.unit];
        if (f === undefined) throw new UserFacingError('artifact-schema', `${where()}: inter_chunk_latency has unit "${icl.unit}", expected a time unit.`);
        // The parsed list becomes the timestamps in place: a second array per record doubled the
        // garbage of a 100,000-request import.
        const chunks = icl.value as number[];
        let t = out.firstTokenNs;
        for (let i = 0; i < chunks.length; i++) {
          const d = chunks[i];
          if (typeof d !== 'number') throw new UserFacingError('artifact-schema', `${where()}: inter_chunk_latency[${i}] is not a number.`);
          t += d * f;
          chunks[i] = t;
        }
        chunks.unshift(out.firstTokenNs);
        out.chunkNs = chunks;
        out.outputTokens.chunks = chunks.length;
      }
      const osl = count(m, 'output_sequence_length');
      const content = count(m, 'output_token_count');
      const reasoning = count(m, 'reasoning_token_count');
      out.outputTokens.tokenizer = osl;
      if (content !== null || reasoning !== null) out.outputTokens.reasoning = reasoning ?? 0;
    }
    requests.push(out);
  }
  if (requests.length === 0) {
    throw new UserFacingError('artifact-empty', `${fileName} has no records; expected one AIPerf record per line. Did the run finish?`);
  }
  const notes: string[] = [];
  const schema = prerelease && !sawCurrent ? 'aiperf-jsonl pre-release (timestamp_ns, credit_phase, ttft/ttst)' : 'aiperf-jsonl v0.1.1+';
  return { kind: 'aiperf-jsonl', schema, requests, streaming, notes, redactedText: redactLines(text, secretLines) };
}
