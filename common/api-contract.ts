import { z } from 'zod';
import { HostStatus, SshTarget } from './host';
import { Task, TaskAnswer } from './task';
import { ErrorPayload } from './errors';
import {
  DeploymentLogLine,
  DeploymentLogs,
  DeploymentSample,
  DeploymentSummary,
  DeploymentView,
  ForwardInfo,
  PlanOutcome,
  SpecInput,
  TeardownOutcome,
} from './deployment-view';
import { Problem } from './deployment/problems';
import { CompareParams, ImportParams, ImportReport, RunDetail, RunSummary, StartRunParams, StartRunResult, SweepParams } from './run-view';
import { Comparison } from './compare';
import { PackedRunSeries } from './run-series';
import { RunWaterfall } from './waterfall';
import { ReportExportParams, ReportReadResult } from './report-model';
import { ReportHistoryList, ReportOpenParams } from './report-history';
import { FabricFile, FabricProbeParams } from './kv/fabric-probe';
import { ChatDelta, ChatDone, ChatStartParams, ChatStartResult, ClientId, Conversation, ConversationSummary } from './chat';

/**
 * The one typed API between the renderer and the controller. In Electron it is carried by the
 * preload over IPC; in browser mode (`handoff serve`) over a WebSocket. Both carriers move the
 * same envelopes (below) and the controller validates params with these schemas on arrival.
 */
export const AddHostParams = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), name: z.string().min(1) }),
  z.object({
    kind: z.literal('ssh'),
    name: z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Use letters, digits, dot, dash or underscore'),
    target: SshTarget,
    identityFile: z.string().optional(),
    jump: SshTarget.optional(),
  }),
]);
export type AddHostParams = z.infer<typeof AddHostParams>;

export const ApiMethods = {
  'app.info': {
    params: z.object({}).optional(),
    result: z.object({ version: z.string(), mode: z.enum(['electron', 'browser', 'cli']), home: z.string() }),
  },
  'hosts.list': { params: z.object({}).optional(), result: z.array(HostStatus) },
  /** Saves the host and starts a check task (connect, trust, install, discover); returns the task. */
  'hosts.add': { params: AddHostParams, result: z.object({ host: HostStatus, task: Task }) },
  'hosts.check': { params: z.object({ name: z.string() }), result: Task },
  'hosts.remove': { params: z.object({ name: z.string() }), result: z.object({ ok: z.literal(true) }) },
  /**
   * Fabric check (issue 9 §2): runs kvprobe on `host` for GPU pair srcGpu→dstGpu with a model's KV
   * block shape (model + tp + blockSize, or an explicit shape). Returns a Task (kind 'fabric-probe')
   * with steps connect → locate/build kvprobe → measure; tasks.cancel stops the probe on the host.
   * The task's result is a FabricProbeRecord (common/kv/fabric-probe.ts): link type from
   * `nvidia-smi topo -m`, expected GB/s for it, verdict (ok/slow/unknown), the KvprobeResult. It is
   * also stored with the host (replacing the record of the same pair + shape).
   */
  'hosts.fabricProbe': { params: FabricProbeParams, result: Task },
  /** Stored fabric probe records of a host, newest first (empty when none); the reference line of the per-block latency chart. */
  'hosts.fabric': { params: z.object({ host: z.string().min(1) }), result: FabricFile },
  'tasks.list': { params: z.object({}).optional(), result: z.array(Task) },
  'tasks.get': { params: z.object({ id: z.string() }), result: Task },
  'tasks.cancel': { params: z.object({ id: z.string() }), result: Task },
  'tasks.answer': { params: z.object({ id: z.string(), answer: TaskAnswer }), result: Task },
  /** Validates and plans a spec against the hosts' facts; starts nothing. Problems are in the result, not thrown. */
  'deployments.plan': { params: SpecInput, result: PlanOutcome },
  /** Plans and starts a deployment (errors: spec-invalid with details.problems); the task follows it to ready (cancel tears it down). */
  'deployments.apply': { params: SpecInput, result: z.object({ deployment: DeploymentSummary, task: Task, warnings: z.array(Problem) }) },
  /** Deployments this controller made; refresh asks their hosts for the current state. */
  'deployments.list': { params: z.object({ refresh: z.boolean().optional() }).optional(), result: z.array(DeploymentSummary) },
  /** `id` is an id, a unique id prefix, or a deployment name. */
  'deployments.status': { params: z.object({ id: z.string() }), result: DeploymentView },
  'deployments.teardown': { params: z.object({ id: z.string() }), result: TeardownOutcome },
  /** Last lines of each process (or one process / worker group); with follow, deployments.log events until deployments.unfollow. */
  'deployments.logs': {
    params: z.object({ id: z.string(), process: z.string().optional(), lines: z.int().min(0).max(10_000).optional(), follow: z.boolean().optional() }),
    result: DeploymentLogs,
  },
  'deployments.unfollow': { params: z.object({ followId: z.string() }), result: z.object({ ok: z.boolean() }) },
  /** The newest live-chart sample of each host of the deployment. */
  'deployments.sample': { params: z.object({ id: z.string() }), result: z.array(DeploymentSample) },
  /** deployments.sample events every intervalMs until deployments.unwatch. */
  'deployments.watch': { params: z.object({ id: z.string() }), result: z.object({ watchId: z.string(), intervalMs: z.int() }) },
  'deployments.unwatch': { params: z.object({ watchId: z.string() }), result: z.object({ ok: z.boolean() }) },
  /** A port on 127.0.0.1 of this computer that reaches the deployment's router (SSH tunnel); kept until unforward or exit. */
  'deployments.forward': { params: z.object({ id: z.string(), localPort: z.int().min(0).max(65535).optional() }), result: ForwardInfo },
  'deployments.unforward': { params: z.object({ id: z.string(), localPort: z.int().optional() }), result: z.object({ closed: z.int() }) },
  /** Local runs and runs still on hosts; refresh first collects runs that finished on hosts meanwhile. */
  'runs.list': { params: z.object({ refresh: z.boolean().optional() }).optional(), result: z.array(RunSummary) },
  /** One run: run.json, metrics, import report, files. `id` is a run id or unique prefix. */
  'runs.get': { params: z.object({ id: z.string() }), result: RunDetail },
  /** The run view's chart data: one value per profiling request in packed columns, sampled time series, KV-transfer intervals. */
  'runs.series': { params: z.object({ id: z.string() }), result: PackedRunSeries },
  /** The run's per-request waterfall (requestId, or the slowest), "where did TTFT go" and the disaggregation check (docs/waterfall.md). */
  'runs.waterfall': { params: z.object({ id: z.string(), requestId: z.string().max(512).optional() }), result: RunWaterfall },
  /** Imports result files or directories (paths on the controller's computer) or dropped file texts; a bad file imports nothing. */
  'runs.import': { params: ImportParams, result: z.object({ runs: z.array(RunSummary), reports: z.array(ImportReport) }) },
  /** Starts a benchmark on a deployment's router host; the task shows live progress (cancel stops the run and keeps what it recorded). */
  'runs.start': { params: StartRunParams, result: StartRunResult },
  /** Runs one benchmark per concurrency (or request rate), one after another, as one group. */
  'runs.sweep': { params: SweepParams, result: StartRunResult },
  /** Cancels a run or every run of a sweep. */
  'runs.cancel': { params: z.object({ id: z.string() }), result: z.array(RunSummary) },
  /** Deletes a run or every run of a sweep from this computer (and runs never collected from their host). */
  'runs.delete': { params: z.object({ id: z.string() }), result: z.object({ deleted: z.array(z.string()) }) },
  /** Two runs or two sweeps: workload check, per-metric deltas (B relative to A) and the verdict. */
  'runs.compare': { params: CompareParams, result: Comparison },
  /** Exports runs, a sweep or a comparison as self-contained HTML, PDF, CSV or a re-runnable .tar.gz bundle; the task's result is a ReportExportResult (common/report-model.ts). */
  'reports.export': { params: ReportExportParams, result: Task },
  /** The bytes of a file reports.export wrote in this session (browser UI downloads). */
  'reports.read': { params: z.object({ path: z.string().min(1).max(4096) }), result: ReportReadResult },
  /** Exports made by this Handoff ($HANDOFF_HOME/reports/history.json), newest first; a damaged history is repaired and `problem` says how. */
  'reports.history': { params: z.object({}).optional(), result: ReportHistoryList },
  /** Removes an entry from the export history; its files stay. */
  'reports.forget': { params: z.object({ id: z.string().min(1).max(100) }), result: z.object({ forgotten: z.boolean() }) },
  /** Opens an exported file, or shows it in its folder (desktop app only: error open-unsupported elsewhere). */
  'reports.open': { params: ReportOpenParams, result: z.object({ ok: z.literal(true) }) },
  /** Streams a chat completion through the deployment's endpoint: chat.delta events, then one chat.done. */
  'chat.start': { params: ChatStartParams, result: ChatStartResult },
  /** Aborts the HTTP request; the router then aborts its prefill or decode leg. chat.done follows (outcome stopped). */
  'chat.stop': { params: z.object({ streamId: z.string() }), result: z.object({ stopped: z.boolean() }) },
  /** Saved conversations under $HANDOFF_HOME/conversations/, newest first. */
  'conversations.list': { params: z.object({}).optional(), result: z.array(ConversationSummary) },
  'conversations.get': { params: z.object({ id: ClientId }), result: Conversation },
  'conversations.save': { params: Conversation, result: ConversationSummary },
  'conversations.delete': { params: z.object({ id: ClientId }), result: z.object({ deleted: z.boolean() }) },
} as const;
export type ApiMethodName = keyof typeof ApiMethods;
export type ApiParams<M extends ApiMethodName> = z.input<(typeof ApiMethods)[M]['params']>;
export type ApiResult<M extends ApiMethodName> = z.infer<(typeof ApiMethods)[M]['result']>;

export const ApiEvents = {
  'hosts.changed': z.array(HostStatus),
  'task.updated': Task,
  'deployments.changed': z.array(DeploymentSummary),
  'deployments.sample': DeploymentSample,
  'deployments.log': DeploymentLogLine,
  /** Run progress comes as task.updated of the run's task. */
  'runs.changed': z.array(RunSummary),
  'chat.delta': ChatDelta,
  'chat.done': ChatDone,
} as const;
export type ApiEventName = keyof typeof ApiEvents;
export type ApiEvent<E extends ApiEventName> = z.infer<(typeof ApiEvents)[E]>;

/** Envelopes carried by both transports. */
export const ApiCall = z.object({ id: z.number().int(), method: z.string(), params: z.unknown().optional() });
export type ApiCall = z.infer<typeof ApiCall>;
export const ApiReply = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: ErrorPayload }),
]);
export type ApiReply = z.infer<typeof ApiReply>;
export const ApiEventEnvelope = z.object({ event: z.string(), data: z.unknown() });
export type ApiEventEnvelope = z.infer<typeof ApiEventEnvelope>;

/** What the renderer sees: `window.handoff` in Electron, a WebSocket client in the browser. */
export interface HandoffApi {
  call<M extends ApiMethodName>(method: M, params?: ApiParams<M>): Promise<ApiResult<M>>;
  on<E extends ApiEventName>(event: E, listener: (data: ApiEvent<E>) => void): () => void;
}

/** The shape the preload exposes (plain functions, no ipcRenderer). */
export interface HandoffBridge {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (envelope: ApiEventEnvelope) => void): () => void;
}
