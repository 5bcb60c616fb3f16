import { z } from 'zod';
import { CpuList } from './cpu-list';
import { BenchPhase, BenchTool, BenchWorkloadInput, LiveMetrics, RunFileEntry } from './bench-rpc';
import { RunDeployment, RunJson, Workload } from './run-record';
import { Task } from './task';

/**
 * What the controller shows about benchmark runs (runs.* in api-contract.ts): list entries, one
 * run's detail, import reports, and the parameters of a run or sweep on a deployment. Runs live in
 * `$HANDOFF_HOME/runs/<id>/` (DESIGN.md, Run record) once collected from their host or imported.
 */

/** `damaged`: a run directory whose run.json or records cannot be read (shown, never as complete). */
export const RunViewStatus = z.enum(['running', 'complete', 'partial', 'failed', 'damaged']);
export type RunViewStatus = z.infer<typeof RunViewStatus>;

/** Loose shape of common/metrics RunMetrics (or a tool's reported aggregates, which may lack statistics). */
export const MetricsView = z.object({
  scalars: z.record(z.string(), z.number()),
  distributions: z.record(z.string(), z.record(z.string(), z.number())),
});
export type MetricsView = z.infer<typeof MetricsView>;

export const RunHeadline = z.object({
  requestCount: z.number().nullable(),
  errorCount: z.number().nullable(),
  outputTokensPerS: z.number().nullable(),
  /** Output tokens/s ÷ the deployment's GPU count; null when the GPU count is unknown (imports). */
  outputTokensPerSPerGpu: z.number().nullable(),
  requestsPerS: z.number().nullable(),
  ttftP50Ms: z.number().nullable(),
  ttftP99Ms: z.number().nullable(),
  itlP50Ms: z.number().nullable(),
  latencyP50Ms: z.number().nullable(),
});
export type RunHeadline = z.infer<typeof RunHeadline>;

export const RunLive = z.object({
  phase: BenchPhase,
  done: z.int(),
  total: z.int().nullable(),
  errors: z.int(),
  warmupDone: z.int(),
  live: LiveMetrics.nullable(),
  toolMessage: z.string().nullable(),
  /** Set while the host cannot be reached: the run goes on there and is collected later. */
  disconnected: z.string().nullable(),
});
export type RunLive = z.infer<typeof RunLive>;

export const RunSummary = z.object({
  id: z.string(),
  name: z.string().nullable(),
  /** Sweep group id; runs of one sweep share it. */
  group: z.string().nullable(),
  status: RunViewStatus,
  /** `host`: still on its host (running, or finished and not yet collected); `local`: in the run store. */
  location: z.enum(['local', 'host']),
  host: z.string().nullable(),
  tool: z.string(),
  imported: z.boolean(),
  simulated: z.boolean(),
  deployment: RunDeployment.nullable(),
  deploymentId: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  workload: Workload,
  /** `concurrency 10`, `5 requests/s`, … */
  loadPoint: z.string().nullable(),
  headline: RunHeadline.nullable(),
  /** Live progress of a run on its host. */
  progress: RunLive.nullable(),
  /** The task following it (runs.cancel cancels it). */
  taskId: z.string().nullable(),
  /** Why it is damaged, or why it could not be collected yet. */
  problem: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const ImportDisagreement = z.object({ metric: z.string(), stat: z.string(), reported: z.number(), recomputed: z.number(), relDiff: z.number().nullable() });
export type ImportDisagreement = z.infer<typeof ImportDisagreement>;

/** import.json of an imported run: what was read and how the tool's figures compared. */
export const ImportInfo = z.object({
  sources: z.array(z.string()),
  tool: z.string(),
  toolVersion: z.string().nullable(),
  kinds: z.array(z.string()),
  schemas: z.array(z.string()),
  /** Requests with per-request records (warmup included), 0 for summary-only files. */
  recordCount: z.int(),
  comparedCount: z.int(),
  disagreements: z.array(ImportDisagreement),
  ignored: z.array(z.object({ name: z.string(), reason: z.string(), kept: z.boolean() })),
  reported: MetricsView.nullable(),
  notes: z.array(z.string()),
});
export type ImportInfo = z.infer<typeof ImportInfo>;

export const RunDetail = z.object({
  summary: RunSummary,
  run: RunJson.nullable(),
  metrics: MetricsView.nullable(),
  /** `records`: recomputed from requests.jsonl; `summary`: the agent's summary.json; `reported`: the tool's own aggregates. */
  metricsSource: z.enum(['records', 'summary', 'reported']).nullable(),
  import: ImportInfo.nullable(),
  /** summary.json of runs made by Handoff: per-block KV-transfer latency, TTFT vs router trace. */
  kvTransfer: z.array(z.unknown()),
  traceTtft: z.unknown().nullable(),
  files: z.array(RunFileEntry),
  dir: z.string().nullable(),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const ImportReport = z.object({
  runId: z.string(),
  sources: z.array(z.string()),
  tool: z.string(),
  kinds: z.array(z.string()),
  schemas: z.array(z.string()),
  recordCount: z.int(),
  comparedCount: z.int(),
  disagreements: z.array(ImportDisagreement),
  ignored: z.array(z.object({ name: z.string(), reason: z.string(), kept: z.boolean() })),
  notes: z.array(z.string()),
});
export type ImportReport = z.infer<typeof ImportReport>;

export const ImportParams = z
  .object({
    /** Files or directories on the controller's computer. Files given together form one run; each directory is a run (and so is each subdirectory holding results). */
    paths: z.array(z.string().min(1)).max(1000).optional(),
    /** File contents (drag-and-drop): together one run. */
    files: z.array(z.object({ name: z.string().min(1).max(1024), text: z.string() })).max(1000).optional(),
    name: z.string().max(200).optional(),
  })
  .refine((p) => (p.paths?.length ?? 0) + (p.files?.length ?? 0) > 0, { message: 'give paths or files to import' });
export type ImportParams = z.infer<typeof ImportParams>;

/** The workload of runs.start / runs.sweep: the model defaults to the deployment's. */
export const StartWorkload = BenchWorkloadInput.extend({ model: z.string().min(1).optional() });
export type StartWorkload = z.input<typeof StartWorkload>;

export const StartRunParams = z.object({
  /** Deployment id, unique id prefix, or name. */
  deployment: z.string().min(1),
  workload: StartWorkload,
  tool: BenchTool.default('builtin'),
  toolArgs: z.array(z.string().max(4096)).max(200).optional(),
  /** CPUs of the router host the benchmark client stays on (BenchStartParams.clientCpus). */
  clientCpus: CpuList.optional(),
  name: z.string().max(200).optional(),
});
export type StartRunParams = z.input<typeof StartRunParams>;

export const SweepParams = StartRunParams.extend({
  /** One run per value, in order; or requestRates. */
  concurrencies: z.array(z.int().min(1).max(100_000)).min(1).max(64).optional(),
  requestRates: z.array(z.number().positive().max(1_000_000)).min(1).max(64).optional(),
}).refine((p) => (p.concurrencies ? 1 : 0) + (p.requestRates ? 1 : 0) === 1, { message: 'give either concurrencies or requestRates' });
export type SweepParams = z.input<typeof SweepParams>;

export const StartRunResult = z.object({
  runIds: z.array(z.string()),
  group: z.string().nullable(),
  task: Task,
});

/** The final result of a benchmark task. */
export const BenchTaskResult = z.object({
  runIds: z.array(z.string()),
  group: z.string().nullable(),
  runs: z.array(RunSummary),
});
export type BenchTaskResult = z.infer<typeof BenchTaskResult>;

export const CompareParams = z.object({
  /** Run ids (or unique prefixes), or two sweep group ids. */
  a: z.string().min(1),
  b: z.string().min(1),
  /** GPU counts for runs that do not know theirs (imports). */
  gpuCountA: z.int().min(1).max(100_000).optional(),
  gpuCountB: z.int().min(1).max(100_000).optional(),
});
export type CompareParams = z.infer<typeof CompareParams>;
