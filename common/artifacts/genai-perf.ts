import { z } from 'zod';
import { UserFacingError } from '../errors';
import { preprocessOpenAiResponses } from '../metrics/sse-response';
import type { RequestRecord, Workload } from '../run-record';
import { definedOnly, type ArtifactReading } from './artifact-reading';
import { emptyReported } from './imported-run';
import { at, boolAt, JsonObject, numAt, parseArtifact, parseJsonText, strAt } from './parse-json';
import { addReported } from './reported';

const NON_METRIC_KEYS = new Set(['telemetry_stats', 'input_config', 'sessions']);

/** Workload from GenAI-Perf's input_config: the nested config of current releases, or the older flat namespace. */
export function genaiPerfWorkload(ic: unknown): Workload {
  const models = at(ic, 'model_names') ?? at(ic, 'model');
  const model = Array.isArray(models) ? (typeof models[0] === 'string' ? models[0] : undefined) : typeof models === 'string' ? models : undefined;
  const mode = strAt(ic, 'perf_analyzer', 'measurement', 'mode');
  const goodput = at(ic, 'input', 'goodput') ?? at(ic, 'goodput');
  const slos: Record<string, number> = {};
  if (goodput && typeof goodput === 'object') {
    for (const [k, v] of Object.entries(goodput as Record<string, unknown>)) if (typeof v === 'number') slos[k] = v;
  } else if (typeof goodput === 'string') {
    // The CLI form, "time_to_first_token:75 inter_token_latency:19.75".
    for (const m of goodput.matchAll(/([A-Za-z_]+):(\d+(?:\.\d+)?)/g)) slos[m[1]!] = Number(m[2]);
  }
  return definedOnly<Workload>({
    model,
    endpointType: strAt(ic, 'endpoint', 'type') ?? strAt(ic, 'endpoint_type'),
    streaming: boolAt(ic, 'endpoint', 'streaming') ?? boolAt(ic, 'streaming'),
    concurrency: numAt(ic, 'perf_analyzer', 'stimulus', 'concurrency') ?? numAt(ic, 'concurrency'),
    requestRate: numAt(ic, 'perf_analyzer', 'stimulus', 'request_rate') ?? numAt(ic, 'request_rate'),
    requestCount: (mode === 'request_count' ? numAt(ic, 'perf_analyzer', 'measurement', 'num') : undefined) ?? numAt(ic, 'request_count'),
    warmupRequestCount: numAt(ic, 'perf_analyzer', 'warmup_request_count') ?? numAt(ic, 'warmup_request_count'),
    islMean: numAt(ic, 'input', 'synthetic_tokens', 'mean') ?? numAt(ic, 'synthetic_input_tokens_mean'),
    islStddev: numAt(ic, 'input', 'synthetic_tokens', 'stddev') ?? numAt(ic, 'synthetic_input_tokens_stddev'),
    oslMean: numAt(ic, 'input', 'output_tokens', 'mean') ?? numAt(ic, 'output_tokens_mean'),
    oslStddev: numAt(ic, 'input', 'output_tokens', 'stddev') ?? numAt(ic, 'output_tokens_stddev'),
    randomSeed: numAt(ic, 'input', 'random_seed') ?? numAt(ic, 'random_seed'),
    tokenizer: strAt(ic, 'tokenizer', 'name') ?? strAt(ic, 'tokenizer'),
    goodput: Object.keys(slos).length ? slos : undefined,
  });
}

/** `*_genai_perf.json` (reference §3.2): one key per metric, then telemetry_stats and input_config. */
export function readGenaiPerfJson(fileName: string, text: string): ArtifactReading {
  const doc = parseArtifact(JsonObject, parseJsonText(text, fileName, 'a GenAI-Perf *_genai_perf.json'), fileName, 'a GenAI-Perf *_genai_perf.json');
  const rep = emptyReported(null);
  const notes: string[] = [];
  for (const [tag, v] of Object.entries(doc)) {
    if (NON_METRIC_KEYS.has(tag) || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const o = v as Record<string, unknown>;
    if (typeof o.unit !== 'string') continue;
    if (tag === 'request_goodput' && o.avg === -1) {
      notes.push(`${fileName}: request_goodput is -1, GenAI-Perf's mark for SLO names it did not recognise; goodput not imported.`);
      continue;
    }
    addReported(rep, tag, o.unit, o);
  }
  if (Object.keys(rep.scalars).length + Object.keys(rep.distributions).length === 0) {
    throw new UserFacingError('artifact-schema', `${fileName} has no GenAI-Perf metrics (expected keys such as request_throughput or time_to_first_token, each {"unit", "avg", …}).`);
  }
  const workload = genaiPerfWorkload(doc.input_config);
  return { kind: 'genai-perf-json', schema: doc.input_config && at(doc.input_config, 'perf_analyzer') ? 'genai-perf-json (nested input_config)' : 'genai-perf-json', workload, reported: rep, streaming: workload.streaming ?? undefined, notes };
}

// perf_analyzer's export (reference §3.1). Bodies are optional: older and hand-written exports
// have only timestamps.
const PaRequest = z.object({
  timestamp: z.number(),
  sequence_id: z.number().optional(),
  request_inputs: z.record(z.string(), z.unknown()).optional(),
  response_timestamps: z.array(z.number()),
  response_outputs: z.array(z.record(z.string(), z.unknown())).optional(),
});
const PaExport = z.object({
  experiments: z.array(z.object({
    experiment: z.object({ mode: z.string(), value: z.number() }),
    requests: z.array(PaRequest),
    window_boundaries: z.array(z.number()).optional(),
  })).min(1),
  version: z.string().optional(),
  service_kind: z.string().optional(),
  endpoint: z.string().optional(),
});

/**
 * GenAI-Perf's `profile_export.json`: perf_analyzer's raw per-request timestamps and bodies. Token
 * responses are found with GenAI-Perf's own preprocessing (sse-response.ts). GenAI-Perf counts
 * OSL by re-tokenizing the text with the model's tokenizer, which Handoff does not have here, so
 * OSL comes from the usage chunk when the stream has one, else from the count of token responses.
 */
export function readPaProfileExport(fileName: string, text: string): ArtifactReading {
  const what = "perf_analyzer's profile_export.json (GenAI-Perf per-request export)";
  const doc = parseArtifact(PaExport, parseJsonText(text, fileName, what), fileName, what);
  const notes: string[] = [];
  const exp = doc.experiments[0]!;
  if (doc.experiments.length > 1) {
    notes.push(`${fileName} holds ${doc.experiments.length} experiments; imported the first (${exp.experiment.mode} ${exp.experiment.value}). GenAI-Perf writes one per run directory.`);
  }
  let streaming: boolean | undefined;
  let model: string | undefined;
  let oslMean: number | undefined;
  let withBodies = 0;
  let oslFromChunks = 0;
  let chat = false;
  let islFromUsage = 0;
  const requests: RequestRecord[] = exp.requests.map((r, i) => {
    const payloadText = r.request_inputs?.payload;
    if (typeof payloadText === 'string' && streaming === undefined) {
      try {
        const p = JSON.parse(payloadText) as unknown;
        streaming = boolAt(p, 'stream') ?? false;
        model = strAt(p, 'model');
        oslMean = numAt(p, 'max_tokens') ?? numAt(p, 'max_completion_tokens');
        chat = Array.isArray(at(p, 'messages'));
      } catch {
        // A payload that is not JSON only loses the workload hints.
      }
    }
    const outputs = r.response_outputs;
    const bodies = outputs?.map((o) => (typeof o.response === 'string' ? o.response : typeof o.text_output === 'string' ? `{"choices":[{"text":${JSON.stringify(o.text_output)}}]}` : null));
    const rec: RequestRecord = { id: String(r.sequence_id ?? i), sendNs: r.timestamp, firstTokenNs: null, lastTokenNs: null, inputTokens: null, outputTokens: { usage: null, chunks: null }, error: null };
    if (bodies && bodies.length > 0 && bodies.every((b) => b !== null)) {
      withBodies++;
      const pre = preprocessOpenAiResponses(r.response_timestamps, bodies as string[]);
      if (pre.error !== null) {
        rec.error = { code: null, type: 'ResponseError', message: pre.error };
        return rec;
      }
      rec.chunkNs = pre.keptNs;
      rec.outputTokens = { usage: pre.usage?.completionTokens ?? null, chunks: pre.keptNs.length };
      rec.inputTokens = pre.usage?.promptTokens ?? null;
      if (rec.inputTokens !== null) islFromUsage++;
      if (rec.outputTokens.usage === null && pre.keptNs.length > 0) oslFromChunks++;
    } else {
      // No bodies: every response is taken as a token response.
      rec.chunkNs = [...r.response_timestamps];
      rec.outputTokens = { usage: null, chunks: r.response_timestamps.length };
      if (r.response_timestamps.length > 0) oslFromChunks++;
    }
    const c = rec.chunkNs;
    if (c.length > 0) {
      rec.firstTokenNs = c[0]!;
      rec.lastTokenNs = c[c.length - 1]!;
    }
    return rec;
  });
  if (islFromUsage > 0 && chat) {
    // GenAI-Perf (llm_profile_data_parser.py::_get_input_token_count) encodes the messages' contents
    // joined by spaces, without the chat template; only the server's count is in this file.
    notes.push(`${fileName}: ISL is the server's prompt_tokens, which for chat requests includes the chat template; GenAI-Perf tokenizes the joined message text without it, so ISL reads higher than GenAI-Perf's (and Handoff's own generator's) by the template's tokens.`);
  }
  if (withBodies < requests.length) {
    notes.push(`${fileName}: ${requests.length - withBodies} of ${requests.length} requests have no response bodies, so every response timestamp counts as a token response.`);
  }
  if (oslFromChunks > 0) {
    notes.push(`${fileName}: OSL of ${oslFromChunks} requests is the number of token responses (no usage chunk); GenAI-Perf re-tokenizes the text instead, so OSL, ITL and token throughput can differ from its summary.`);
  } else if (withBodies > 0) {
    notes.push(`${fileName}: OSL is the server's usage count; GenAI-Perf re-tokenizes the text with the model's tokenizer, so OSL, ITL and token throughput can differ slightly from its summary.`);
  }
  if (streaming === undefined && requests.some((r) => (r.chunkNs?.length ?? 0) > 1)) streaming = true;
  const mode = exp.experiment.mode;
  const workload = definedOnly<Workload>({
    model,
    endpointType: doc.endpoint?.includes('chat') ? 'chat' : doc.endpoint?.includes('completions') ? 'completions' : undefined,
    streaming,
    concurrency: mode === 'concurrency' ? exp.experiment.value : undefined,
    requestRate: mode === 'request_rate' && exp.experiment.value > 0 ? exp.experiment.value : undefined,
    requestCount: requests.length,
    oslMean,
  });
  return {
    kind: 'perf-analyzer-profile-export',
    schema: withBodies > 0 ? 'perf_analyzer profile_export (with bodies)' : 'perf_analyzer profile_export (timestamps only)',
    toolVersion: doc.version ? `perf_analyzer ${doc.version}` : null,
    workload,
    requests,
    streaming,
    notes,
  };
}
