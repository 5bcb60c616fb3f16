import { z } from 'zod';
import { CpuList } from './cpu-list';
import { UserFacingError, describeZodError } from './errors';
import { parseSlos, type Slos } from './metrics/goodput';
import { DISTRIBUTION_METRICS, metricKeyForTag, type DistributionMetricKey } from './metrics/metric-keys';
import type { RunMetrics } from './metrics/run-metrics';
import type { BlockLatency, BlockLatencySummary } from './metrics/kv-transfer';
import { RunDeployment, RunStatus, type Workload } from './run-record';

/**
 * The benchmark RPC surface (bench.*), spread into AgentMethods / AgentNotifications in
 * agent-rpc.ts. A run executes inside the agent daemon on the host, next to the deployment, so it
 * finishes even when the controller's SSH connection drops; its record lands under
 * `agentLayout(home).runsDir/<runId>/` and bench.fetch hands it over later.
 */

/** Used as a directory name on the host: no "/", no "..", no spaces. */
export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const BenchTool = z.enum(['builtin', 'genai-perf', 'aiperf']);
export type BenchTool = z.infer<typeof BenchTool>;

export const EndpointType = z.enum(['chat', 'completions']);
export type EndpointType = z.infer<typeof EndpointType>;

export const ArrivalPattern = z.enum(['constant', 'poisson']);
export type ArrivalPattern = z.infer<typeof ArrivalPattern>;

const Count = z.int().min(1).max(10_000_000);
const Tokens = z.number().min(1).max(10_000_000);

/**
 * What the user asks for. `preset: 'seed'` fills in the seed's genai-perf command (chat, streaming,
 * ISL 3000±0, OSL 150 with min_tokens = max_tokens = 150 and ignore_eos, concurrency 10, 40
 * requests, 10 warmup, seed 123, tokenizer = model); any field given alongside overrides it.
 */
export const BenchWorkloadInput = z
  .object({
    preset: z.enum(['seed']).optional(),
    /** The served model name sent in every request. */
    model: z.string().min(1),
    /** Hugging Face tokenizer for genai-perf/AIPerf (name or local path); default: the model. The built-in generator uses the deployment's /tokenize. */
    tokenizer: z.string().min(1).optional(),
    endpointType: EndpointType.optional(),
    streaming: z.boolean().optional(),
    islMean: Tokens.optional(),
    islStddev: z.number().min(0).max(10_000_000).optional(),
    /** Mean of each request's max_tokens; absent = no max_tokens unless maxTokens is set. */
    oslMean: Tokens.optional(),
    oslStddev: z.number().min(0).max(10_000_000).optional(),
    /** Fixed min_tokens for every request (vLLM extension); with exactOutput it follows the sampled OSL. */
    minTokens: z.int().min(0).max(10_000_000).optional(),
    /** Fixed max_tokens for every request; overrides the sampled OSL. */
    maxTokens: z.int().min(1).max(10_000_000).optional(),
    ignoreEos: z.boolean().optional(),
    /** min_tokens = max_tokens = the sampled OSL and ignore_eos: every request generates exactly its OSL. */
    exactOutput: z.boolean().optional(),
    concurrency: z.int().min(1).max(100_000).optional(),
    /** Requests per second; with concurrency as well, the rate is capped by that many in flight. */
    requestRate: z.number().positive().max(1_000_000).optional(),
    arrival: ArrivalPattern.optional(),
    requestCount: Count.optional(),
    durationS: z.number().positive().max(7 * 86_400).optional(),
    warmupRequestCount: z.int().min(0).max(1_000_000).optional(),
    randomSeed: z.int().min(0).max(2 ** 32 - 1).optional(),
    /** Distinct prompts, reused in turn (GenAI-Perf's --num-dataset-entries). */
    numDatasetEntries: z.int().min(1).max(100_000).optional(),
    /** Goodput SLOs: `{time_to_first_token: 75}` or `{ttftMs: 75}`, or the CLI text "time_to_first_token:75 inter_token_latency:19.75". */
    slos: z.union([z.record(z.string(), z.number().positive()), z.string()]).optional(),
    /** OSL source for the built-in generator: re-tokenize each answer with the deployment's /tokenize (as GenAI-Perf and AIPerf do), or the server's usage count. */
    outputTokenCount: z.enum(['retokenize', 'server']).optional(),
    /** Merged into every request body (GenAI-Perf's --extra-inputs). */
    extraBody: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type BenchWorkloadInput = z.input<typeof BenchWorkloadInput>;

/** A workload with every choice made: what the generator runs and what the tools' argv encode. */
export interface ResolvedWorkload {
  preset: 'seed' | null;
  model: string;
  tokenizer: string;
  endpointType: EndpointType;
  streaming: boolean;
  islMean: number;
  islStddev: number;
  oslMean: number | null;
  oslStddev: number;
  minTokens: number | null;
  maxTokens: number | null;
  ignoreEos: boolean;
  exactOutput: boolean;
  concurrency: number | null;
  requestRate: number | null;
  arrival: ArrivalPattern;
  requestCount: number | null;
  durationS: number | null;
  warmupRequestCount: number;
  randomSeed: number;
  numDatasetEntries: number;
  slos: Slos;
  outputTokenCount: 'retokenize' | 'server';
  extraBody: Record<string, unknown>;
}

/** The seed's `genai-perf profile` command (reference/genai-perf.md; DESIGN.md "The seed"). */
export const SEED_PRESET = {
  endpointType: 'chat',
  streaming: true,
  islMean: 3000,
  islStddev: 0,
  oslMean: 150,
  oslStddev: 0,
  minTokens: 150,
  maxTokens: 150,
  ignoreEos: true,
  concurrency: 10,
  requestCount: 40,
  warmupRequestCount: 10,
  randomSeed: 123,
} as const satisfies Partial<BenchWorkloadInput>;

function slosOf(v: BenchWorkloadInput['slos']): Slos {
  if (v === undefined) return {};
  if (typeof v === 'string') return parseSlos(v);
  const out: Slos = {};
  for (const [name, value] of Object.entries(v)) {
    const key = (name in DISTRIBUTION_METRICS ? name : metricKeyForTag(name)) as DistributionMetricKey | undefined;
    if (!key || !(key in DISTRIBUTION_METRICS)) {
      throw new UserFacingError('invalid-workload', `"${name}" cannot be a goodput SLO. Use time_to_first_token, inter_token_latency, request_latency, time_to_second_token or output_token_throughput_per_user.`);
    }
    // parseSlos knows which keys may be SLOs; reuse its check through the text form.
    Object.assign(out, parseSlos(`${name}:${value}`));
  }
  return out;
}

/**
 * Fills defaults and checks combinations. Throws UserFacingError('invalid-workload') naming the
 * field and what to change.
 */
export function resolveWorkload(input: unknown): ResolvedWorkload {
  const parsed = BenchWorkloadInput.safeParse(input);
  if (!parsed.success) throw new UserFacingError('invalid-workload', `${describeZodError('Benchmark workload', parsed.error)}.`);
  const w = { ...(parsed.data.preset === 'seed' ? SEED_PRESET : {}), ...parsed.data };
  const bad = (msg: string): never => {
    throw new UserFacingError('invalid-workload', `Benchmark workload: ${msg}`);
  };
  if (w.requestCount !== undefined && w.durationS !== undefined) bad('give a request count or a duration, not both.');
  if (w.minTokens !== undefined && w.maxTokens !== undefined && w.minTokens > w.maxTokens) bad(`min_tokens (${w.minTokens}) is larger than max_tokens (${w.maxTokens}); lower min_tokens or raise max_tokens.`);
  if (w.exactOutput && w.oslMean === undefined && w.maxTokens === undefined) bad('exact output length needs an output length: set oslMean (or maxTokens).');
  if (w.arrival !== undefined && w.requestRate === undefined) bad(`an arrival pattern (${w.arrival}) only applies with a request rate; set requestRate or drop arrival.`);
  const concurrency = w.concurrency ?? (w.requestRate === undefined ? 1 : null);
  // GenAI-Perf sends max(10, 2 × concurrency) requests when no count is given (reference §1.1).
  const requestCount = w.durationS !== undefined ? null : (w.requestCount ?? Math.max(10, 2 * (concurrency ?? 1)));
  const slos = slosOf(w.slos);
  return {
    preset: w.preset ?? null,
    model: w.model,
    tokenizer: w.tokenizer ?? w.model,
    endpointType: w.endpointType ?? 'chat',
    streaming: w.streaming ?? true,
    islMean: w.islMean ?? 550,
    islStddev: w.islStddev ?? 0,
    oslMean: w.oslMean ?? null,
    oslStddev: w.oslStddev ?? 0,
    minTokens: w.minTokens ?? null,
    maxTokens: w.maxTokens ?? null,
    ignoreEos: w.ignoreEos ?? w.exactOutput ?? false,
    exactOutput: w.exactOutput ?? false,
    concurrency,
    requestRate: w.requestRate ?? null,
    arrival: w.arrival ?? 'constant',
    requestCount,
    durationS: w.durationS ?? null,
    warmupRequestCount: w.warmupRequestCount ?? 0,
    randomSeed: w.randomSeed ?? 0,
    numDatasetEntries: w.numDatasetEntries ?? 100,
    slos,
    outputTokenCount: w.outputTokenCount ?? 'retokenize',
    extraBody: w.extraBody ?? {},
  };
}

/** The run record's view of a resolved workload. */
export function runWorkload(w: ResolvedWorkload): Workload {
  return {
    endpointType: w.endpointType,
    streaming: w.streaming,
    model: w.model,
    tokenizer: w.tokenizer,
    concurrency: w.concurrency,
    requestRate: w.requestRate,
    arrival: w.requestRate === null ? null : w.arrival,
    requestCount: w.requestCount,
    warmupRequestCount: w.warmupRequestCount,
    durationS: w.durationS,
    islMean: w.islMean,
    islStddev: w.islStddev,
    oslMean: w.oslMean ?? w.maxTokens,
    oslStddev: w.oslStddev,
    randomSeed: w.randomSeed,
    goodput: Object.keys(w.slos).length ? (w.slos as Record<string, number>) : null,
  };
}

const AbsolutePath = z.string().refine((p) => p.startsWith('/') && !p.split('/').includes('..'), { message: 'must be an absolute path without ".."' });

export const MetricsTarget = z.object({
  /** Names the series in samples.jsonl: `router`, `prefill-0`, `decode-0`, … */
  source: z.string().min(1).max(128),
  url: z.url({ protocol: /^https?$/ }),
});
export type MetricsTarget = z.infer<typeof MetricsTarget>;

/** Bytes of one KV block per decode rank, or what to derive it from (common/model-config.ts). */
export const KvBlockInput = z.union([
  z.object({ bytesPerBlock: z.number().positive() }),
  z.object({ model: z.string().min(1), tp: z.int().min(1).max(1024), blockSize: z.int().min(1).max(1 << 20) }),
]);
export type KvBlockInput = z.infer<typeof KvBlockInput>;

export const BenchStartParams = z.object({
  runId: RunId,
  name: z.string().max(200).nullable().optional(),
  /** Runs of one sweep share a group id. */
  group: z.string().max(200).nullable().optional(),
  deploymentId: RunId.optional(),
  /** Stored in run.json; the compare verdict divides by its GPU count. */
  deployment: RunDeployment.nullable().optional(),
  /** The deployment spec as applied, kept verbatim in run.json. */
  spec: z.unknown().optional(),
  /** Mocker deployments: the run is labelled simulated. */
  simulated: z.boolean().default(false),
  /** Base URL of the OpenAI-compatible endpoint as seen from this host, e.g. http://127.0.0.1:8181. */
  endpoint: z.url({ protocol: /^https?$/ }),
  /** Where /tokenize and /detokenize answer (a worker; the router does not serve them); default: endpoint. */
  tokenizeUrl: z.url({ protocol: /^https?$/ }).optional(),
  tool: BenchTool.default('builtin'),
  /** genai-perf / aiperf executable; default: found next to a Python that host.info reports with the package. */
  toolPath: AbsolutePath.optional(),
  /** Appended to the external tool's argv as given (never through a shell). */
  toolArgs: z.array(z.string().max(4096)).max(200).default([]),
  /**
   * CPUs the benchmark client runs on (`0`, `0-3,8`): keeps its own CPU use off the cores the engine
   * computes on. External tools run under `taskset -c`; the built-in generator pins the agent for the run.
   */
  clientCpus: CpuList.optional(),
  workload: BenchWorkloadInput,
  /** /metrics endpoints sampled every sampleIntervalMs into samples.jsonl. */
  metricsUrls: z.array(MetricsTarget).max(64).default([]),
  /** Router trace files (JSONL, common/router-trace.ts) whose records for this run go into traces.jsonl. */
  traceFiles: z.array(AbsolutePath).max(16).default([]),
  gpuTelemetry: z.boolean().default(true),
  /** Decode workers' NIXL_TELEMETRY_DIR (docs/nixl-telemetry.md), read during the run into transfers.jsonl. */
  nixlTelemetry: z.array(z.object({ worker: z.string().min(1).max(128), dir: AbsolutePath, flushIntervalMs: z.int().positive().max(60_000).optional() })).max(64).default([]),
  sampleIntervalMs: z.int().min(100).max(60_000).default(1_000),
  kvBlock: KvBlockInput.optional(),
  /** Facts of the hosts involved, kept in run.json. */
  hosts: z.array(z.object({ name: z.string(), hostname: z.string().nullable().optional() }).passthrough()).default([]),
});
export type BenchStartParams = z.infer<typeof BenchStartParams>;
export type BenchStartInput = z.input<typeof BenchStartParams>;

export const BenchPhase = z.enum(['preparing', 'warmup', 'profiling', 'collecting', 'done']);
export type BenchPhase = z.infer<typeof BenchPhase>;

/** Figures over the profiling requests finished so far. */
export const LiveMetrics = z.object({
  elapsedS: z.number(),
  inFlight: z.int(),
  requestsPerS: z.number().nullable(),
  outputTokensPerS: z.number().nullable(),
  ttftP50Ms: z.number().nullable(),
  ttftP99Ms: z.number().nullable(),
  itlP50Ms: z.number().nullable(),
  latencyP50Ms: z.number().nullable(),
});
export type LiveMetrics = z.infer<typeof LiveMetrics>;

export const BenchRunStatus = z.object({
  runId: z.string(),
  tool: BenchTool,
  status: RunStatus,
  phase: BenchPhase,
  /** Profiling requests finished (warmup not counted). */
  done: z.int(),
  /** Planned profiling requests; null for a duration-bound run. */
  total: z.int().nullable(),
  errors: z.int(),
  warmupDone: z.int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Why the run failed or stopped early, for a person. */
  error: z.string().nullable(),
  cancelled: z.boolean(),
  live: LiveMetrics.nullable(),
  /** The last progress line of an external tool. */
  toolMessage: z.string().nullable(),
});
export type BenchRunStatus = z.infer<typeof BenchRunStatus>;

export const BenchProgress = BenchRunStatus.extend({ at: z.string() });
export type BenchProgress = z.infer<typeof BenchProgress>;

export const RunFileEntry = z.object({ path: z.string(), bytes: z.int().nonnegative() });
export type RunFileEntry = z.infer<typeof RunFileEntry>;

export const BENCH_FETCH_MAX_BYTES = 8 * 1024 * 1024;

export const BenchFetchParams = z.object({
  runId: RunId,
  /** A path from the manifest; absent = manifest only. */
  path: z.string().min(1).max(1024).optional(),
  offset: z.int().min(0).default(0),
  maxBytes: z.int().min(1).max(BENCH_FETCH_MAX_BYTES).default(4 * 1024 * 1024),
});

export const BenchFetchResult = z.object({
  runId: z.string(),
  status: RunStatus,
  /** Every file of the run directory (temporary files excluded), paths relative to it. */
  files: z.array(RunFileEntry),
  /** run.json as stored (validated by RunJson on the controller). */
  runJson: z.unknown(),
  chunk: z
    .object({
      path: z.string(),
      offset: z.int(),
      /** The bytes, base64: raw artifacts may be binary. */
      dataBase64: z.string(),
      totalBytes: z.int(),
      eof: z.boolean(),
    })
    .nullable(),
});
export type BenchFetchResult = z.infer<typeof BenchFetchResult>;

export const BenchListEntry = z.object({
  runId: z.string(),
  status: RunStatus,
  tool: z.string(),
  name: z.string().nullable(),
  group: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** True while this daemon is executing it. */
  active: z.boolean(),
});
export type BenchListEntry = z.infer<typeof BenchListEntry>;

const RunRef = z.object({ runId: RunId });

export const BenchMethods = {
  /** Starts a run on this host and returns at once; follow bench.progress, then bench.fetch. */
  'bench.start': { params: BenchStartParams, result: z.object({ runId: z.string(), dir: z.string(), status: BenchRunStatus }) },
  /** A run's state: live while it runs, from run.json after. */
  'bench.status': { params: RunRef, result: BenchRunStatus },
  /** Stops a running run: no new requests, in-flight ones aborted; the record is kept as partial. Idempotent. */
  'bench.cancel': { params: RunRef, result: BenchRunStatus },
  'bench.list': { params: z.object({}).optional(), result: z.object({ runs: z.array(BenchListEntry) }) },
  /** The run's manifest and run.json; with path, one chunk of that file (loop on offset until eof). */
  'bench.fetch': { params: BenchFetchParams, result: BenchFetchResult },
  /** Deletes a finished run's directory. */
  'bench.remove': { params: RunRef, result: z.object({ removed: z.literal(true) }) },
} as const;

export const BenchNotifications = {
  /** Phase changes, and about twice a second while requests finish. Sent to every attached client. */
  'bench.progress': BenchProgress,
} as const;

// ---------------------------------------------------------------- summary.json

/**
 * `summary.json` in the run directory: what the agent computed at the end with common/metrics, so a
 * controller can show a run without recomputing (it can: requests.jsonl has every timestamp).
 */
export interface BenchSummary {
  schema: 1;
  runId: string;
  metrics: RunMetrics | null;
  /** Per-block KV transfer latency per worker source with NIXL counters. */
  kvTransfer: Array<{ source: string; bytesPerBlock: number; run: BlockLatency | null; intervals: BlockLatency[]; stats: BlockLatencySummary['stats'] }>;
  /** The generator's TTFT next to the router's for the same requests (built-in tool with traces). */
  traceTtft: { matched: number; clientP50Ms: number; routerP50Ms: number; diffP50Ms: number } | null;
  notes: string[];
}
