import { z } from 'zod';

/**
 * The run record of DESIGN.md: one directory per run holding run.json, the raw tool artifacts
 * (redacted), requests.jsonl, samples.jsonl and traces.jsonl. These schemas are the source of the
 * types; every file is parsed with them when read back.
 *
 * Times: every `…Ns` field of one run is on one clock, in nanoseconds. For runs recorded by Handoff
 * it is nanoseconds since `timings.originEpochNs` (kept as a decimal string because epoch
 * nanoseconds exceed 2^53). Imported records keep the tool's epoch nanoseconds as JSON numbers,
 * which rounds them to 256 ns: far below any metric's resolution.
 */

export const RUN_RECORD_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------- requests.jsonl

export const RequestError = z.object({
  /** HTTP status or tool error code (AIPerf uses 499 for a cancelled request). */
  code: z.number().int().nullable(),
  type: z.string().nullable(),
  message: z.string(),
});
export type RequestError = z.infer<typeof RequestError>;

export const OutputTokenCounts = z.object({
  /** Server-reported `usage.completion_tokens` (requested with stream_options.include_usage). */
  usage: z.number().nonnegative().nullable(),
  /** Number of chunks that carried output text, as counted by the client. */
  chunks: z.number().int().nonnegative().nullable(),
  /** The client re-tokenized count of the whole output text: the OSL GenAI-Perf and AIPerf report. */
  tokenizer: z.number().nonnegative().nullable().optional(),
  /** The part of the count that is reasoning text (AIPerf counts it in OSL; GenAI-Perf ignores reasoning). */
  reasoning: z.number().nonnegative().nullable().optional(),
});
export type OutputTokenCounts = z.infer<typeof OutputTokenCounts>;

/** One line of requests.jsonl: what happened to one request, as timestamps. */
export const RequestRecord = z.object({
  id: z.string().optional(),
  /** Warmup requests are stored but excluded from every metric. Absent means profiling. */
  phase: z.enum(['warmup', 'profiling']).optional(),
  sendNs: z.number(),
  /**
   * Arrival time of each chunk that carried output (content or reasoning) text, in order. Role-only
   * first chunks, usage-only chunks and `[DONE]` are not token responses (reference §4.1).
   */
  chunkNs: z.array(z.number()).optional(),
  /** First chunk with output text (content or reasoning); null when none arrived. */
  firstTokenNs: z.number().nullable(),
  /** First chunk with answer content, when it differs from firstTokenNs (reasoning models). */
  firstContentNs: z.number().nullable().optional(),
  /** Last chunk with output text (not `[DONE]`); null when none arrived. */
  lastTokenNs: z.number().nullable(),
  inputTokens: z.number().nonnegative().nullable(),
  outputTokens: OutputTokenCounts,
  error: RequestError.nullable(),
});
export type RequestRecord = z.infer<typeof RequestRecord>;

// ---------------------------------------------------------------- samples.jsonl

/** A scrape of one Prometheus endpoint; series keys are `name{label="v",…}` with labels sorted. */
export const PromSample = z.object({
  kind: z.literal('prometheus'),
  tMs: z.number(),
  /** What was scraped: `router`, a worker name such as `prefill-0`, … */
  source: z.string(),
  values: z.record(z.string(), z.number()),
});
export type PromSample = z.infer<typeof PromSample>;

export const GpuSample = z.object({
  kind: z.literal('gpu'),
  tMs: z.number(),
  host: z.string(),
  gpus: z.array(z.object({
    index: z.number().int(),
    utilizationPct: z.number().nullable(),
    memoryUsedMiB: z.number().nullable(),
    memoryTotalMiB: z.number().nullable(),
    powerW: z.number().nullable().optional(),
    temperatureC: z.number().nullable().optional(),
  })),
});
export type GpuSample = z.infer<typeof GpuSample>;

/** One line of samples.jsonl. */
export const MetricSample = z.discriminatedUnion('kind', [PromSample, GpuSample]);
export type MetricSample = z.infer<typeof MetricSample>;

// ---------------------------------------------------------------- traces.jsonl

/** One line of traces.jsonl: the router's view of a request (DESIGN.md, Router). */
export const RouterTrace = z.object({
  requestId: z.string(),
  arrivalNs: z.number(),
  /** True when prefill ran on a prefill worker and the KV cache was transferred to decode. */
  remotePrefill: z.boolean(),
  prefillWorker: z.string().nullable().optional(),
  decodeWorker: z.string().nullable().optional(),
  prefillSentNs: z.number().nullable().optional(),
  prefillDoneNs: z.number().nullable().optional(),
  decodeSentNs: z.number().nullable().optional(),
  firstTokenNs: z.number().nullable().optional(),
  lastTokenNs: z.number().nullable().optional(),
  /** KV blocks handed from prefill to decode. */
  blocks: z.number().int().nonnegative().nullable().optional(),
  promptTokens: z.number().int().nonnegative().nullable().optional(),
  outputTokens: z.number().int().nonnegative().nullable().optional(),
  error: z.string().nullable().optional(),
});
export type RouterTrace = z.infer<typeof RouterTrace>;

// ---------------------------------------------------------------- transfers.jsonl

/**
 * Optional: one NixlTransferRecord (common/kv/nixl-transfer.ts) per KV transfer, read from the
 * decode workers' NIXL telemetry during the run (docs/nixl-telemetry.md). Absent when the workers
 * wrote none.
 */
export const TRANSFERS_JSONL = 'transfers.jsonl';

// ---------------------------------------------------------------- run.json

/** The load as far as it is known (imports may know only part of it). */
export const Workload = z.object({
  endpointType: z.string().nullable().optional(),
  streaming: z.boolean().nullable().optional(),
  model: z.string().nullable().optional(),
  tokenizer: z.string().nullable().optional(),
  concurrency: z.number().nullable().optional(),
  requestRate: z.number().nullable().optional(),
  /** constant | poisson | gamma | … (AIPerf defaults to poisson, perf_analyzer to constant). */
  arrival: z.string().nullable().optional(),
  requestCount: z.number().int().nullable().optional(),
  warmupRequestCount: z.number().int().nullable().optional(),
  durationS: z.number().nullable().optional(),
  islMean: z.number().nullable().optional(),
  islStddev: z.number().nullable().optional(),
  oslMean: z.number().nullable().optional(),
  oslStddev: z.number().nullable().optional(),
  randomSeed: z.number().nullable().optional(),
  /** SLOs for goodput, as `metric:value` in display units (ms, tokens/sec/user). */
  goodput: z.record(z.string(), z.number()).nullable().optional(),
});
export type Workload = z.infer<typeof Workload>;

export const RunTool = z.object({
  name: z.enum(['builtin', 'genai-perf', 'aiperf', 'vllm-bench']),
  version: z.string().nullable(),
  /** The command as run, already redacted. */
  argv: z.array(z.string()).optional(),
  /** The CPUs the client was kept on (taskset list), when the run asked for it. */
  cpus: z.string().optional(),
});
export type RunTool = z.infer<typeof RunTool>;

export const RunDeployment = z.object({
  name: z.string(),
  mode: z.enum(['aggregated', 'disaggregated']),
  engine: z.enum(['vllm', 'mocker']),
  model: z.string().nullable().optional(),
  /** GPUs used by all workers together; the verdict divides throughput by it. */
  gpuCount: z.number().int().nonnegative(),
});
export type RunDeployment = z.infer<typeof RunDeployment>;

export const HostFacts = z.object({
  name: z.string(),
  hostname: z.string().nullable().optional(),
  gpus: z.array(z.object({ index: z.number().int(), name: z.string(), memoryTotalMiB: z.number().nullable().optional() })).optional(),
  driverVersion: z.string().nullable().optional(),
  cudaVersion: z.string().nullable().optional(),
});
export type HostFacts = z.infer<typeof HostFacts>;

export const RunArtifact = z.object({
  /** Path inside the run directory, e.g. `artifacts/profile_export.jsonl`. */
  path: z.string(),
  /** What the importer recognised it as (artifact kind), or null when kept as-is. */
  kind: z.string().nullable(),
});
export type RunArtifact = z.infer<typeof RunArtifact>;

export const RunStatus = z.enum(['running', 'complete', 'partial', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

/** run.json */
export const RunJson = z.object({
  schema: z.literal(RUN_RECORD_SCHEMA_VERSION),
  id: z.string().min(1),
  name: z.string().nullable().optional(),
  /** Runs of one sweep share a group id. */
  group: z.string().nullable().optional(),
  /** `complete`: every planned request ran and all files were written; `partial`: cut short. */
  status: RunStatus,
  /** True when the engine was the mocker: numbers come from a latency model, not a GPU. */
  simulated: z.boolean(),
  /** True when the run came from `handoff import` rather than being run by Handoff. */
  imported: z.boolean().default(false),
  tool: RunTool,
  /** Versions of everything involved: handoff, vllm, nixl, python … */
  versions: z.record(z.string(), z.string()),
  /** The deployment spec as applied (validated by its own schema where it is defined). */
  spec: z.unknown().optional(),
  deployment: RunDeployment.nullable(),
  hosts: z.array(HostFacts),
  timings: z.object({
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    /** Epoch nanoseconds (decimal string) that the run's `…Ns` fields count from; null for imported epoch times. */
    originEpochNs: z.string().regex(/^\d+$/).nullable(),
  }),
  workload: Workload,
  artifacts: z.array(RunArtifact).default([]),
  notes: z.array(z.string()).default([]),
});
export type RunJson = z.infer<typeof RunJson>;
