import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { ArtifactFile } from '../../../common/artifacts';
import { resolveWorkload, runWorkload, type BenchRunStatus, type BenchStartInput } from '../../../common/bench-rpc';
import { compareGroups, compareRuns, loadPointOf, type ComparableRun, type Comparison } from '../../../common/compare';
import type { DeploymentRecord } from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';
import type { HostStatus } from '../../../common/host';
import { computeRunMetrics, parseSlos, type Slos } from '../../../common/metrics';
import { RequestRecord, type RunJson } from '../../../common/run-record';
import {
  ImportInfo,
  MetricsView,
  SweepParams,
  StartRunParams,
  type BenchTaskResult,
  type CompareParams,
  type ImportParams,
  type ImportReport,
  type RunDetail,
  type RunHeadline,
  type RunLive,
  type RunSummary,
} from '../../../common/run-view';
import type { Task } from '../../../common/task';
import { HANDOFF_VERSION } from '../../../common/version';
import type { AgentConnection } from '../agent/agent-attach';
import { cancelledError, type TaskContext, type TaskRunner } from '../tasks/task-runner';
import { benchTarget, type BenchTarget } from './bench-target';
import { abortableSleep } from '../../../common/abortable-sleep';
import { LocalRunStore, RUN_FILES, type LocalRun } from './local-run-store';
import { PendingRuns, type PendingRun } from './pending-runs';
import { collectRun, RunStillRunning } from './run-collector';
import { newId, progressDetail, progressFraction } from './run-format';
import { collectImportSources, prepareImport, sourceFromFiles, type PreparedImport } from './run-import';

/** What the run service needs from the hosts layer (HostService implements it). */
export interface RunHosts {
  list(): Promise<HostStatus[]>;
  agent(name: string, signal?: AbortSignal): Promise<AgentConnection>;
}

export interface RunDeployments {
  resolve(ref: string): Promise<DeploymentRecord>;
}

export interface RunServiceOptions {
  home: string;
  hosts: RunHosts;
  deployments: RunDeployments;
  tasks: TaskRunner;
  /** In `cli` mode nothing happens in the background: commands collect explicitly. */
  mode: 'electron' | 'browser' | 'cli';
  /** Waits between reconnection attempts while a host is unreachable (the last one repeats). */
  reconnectDelaysMs?: number[];
  /** How often a followed run's status is asked for besides bench.progress events. */
  pollMs?: number;
}

const SummaryFile = z
  .object({ metrics: MetricsView.nullable().optional(), kvTransfer: z.array(z.unknown()).optional(), traceTtft: z.unknown().optional(), notes: z.array(z.string()).optional() })
  .passthrough();

/** Connection failures worth retrying; anything else (unknown host, refused key) needs the user. */
const RETRYABLE = new Set(['host-unreachable', 'agent-disconnected', 'agent-timeout', 'jump-failed', 'agent-start-failed', 'ssh-timeout', 'internal']);

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
const errorCode = (err: unknown) => (err instanceof UserFacingError ? err.code : 'internal');

const sleep = abortableSleep;

function headlineOf(m: MetricsView | null, gpuCount: number | null): RunHeadline | null {
  if (!m) return null;
  const s = m.scalars;
  const d = m.distributions;
  const n = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);
  const tok = n(s.outputTokenThroughputPerS);
  return {
    requestCount: n(s.requestCount),
    errorCount: n(s.errorCount),
    outputTokensPerS: tok,
    outputTokensPerSPerGpu: tok !== null && gpuCount ? tok / gpuCount : null,
    requestsPerS: n(s.requestThroughputPerS),
    ttftP50Ms: n(d.ttftMs?.p50),
    ttftP99Ms: n(d.ttftMs?.p99),
    itlP50Ms: n(d.itlMs?.p50),
    latencyP50Ms: n(d.requestLatencyMs?.p50),
  };
}

function slosOf(goodput: Record<string, number> | null | undefined): Slos | undefined {
  if (!goodput) return undefined;
  try {
    return parseSlos(Object.entries(goodput).map(([k, v]) => `${k}:${v}`).join(' '));
  } catch {
    return undefined;
  }
}

interface LoadedMetrics {
  metrics: MetricsView | null;
  source: RunDetail['metricsSource'];
}

interface Follow {
  taskId: string;
}

/**
 * Benchmark runs: the local run store, imports, runs and sweeps on deployments (executed by the
 * router host's agent, followed as a Task, collected into the store when they end), runs left on
 * hosts by a dropped connection or a closed controller (collected when the host is reachable
 * again), and comparisons.
 */
export class RunService extends EventEmitter<{ changed: [RunSummary[]] }> {
  readonly store: LocalRunStore;
  readonly pending: PendingRuns;
  private readonly hosts: RunHosts;
  private readonly deployments: RunDeployments;
  private readonly tasks: TaskRunner;
  private readonly mode: RunServiceOptions['mode'];
  private readonly delays: number[];
  private readonly pollMs: number;
  /** Run id → the task following it. */
  private readonly follows = new Map<string, Follow>();
  private readonly live = new Map<string, RunLive>();
  private readonly cache = new Map<string, { mtimeMs: number; summary: RunSummary }>();
  private readonly closeController = new AbortController();
  private collecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(opts: RunServiceOptions) {
    super();
    this.store = new LocalRunStore(opts.home);
    this.pending = new PendingRuns(this.store.root);
    this.hosts = opts.hosts;
    this.deployments = opts.deployments;
    this.tasks = opts.tasks;
    this.mode = opts.mode;
    this.delays = opts.reconnectDelaysMs ?? [1_000, 2_000, 5_000, 10_000, 30_000];
    this.pollMs = opts.pollMs ?? 5_000;
  }

  private get closing(): boolean {
    return this.closeController.signal.aborted;
  }

  /** Background start-up (desktop and browser modes): clean half-written runs, then follow or collect runs left on hosts. */
  resume(): void {
    void this.store.cleanupTemporary().catch(() => undefined);
    if (this.mode === 'cli') return;
    void this.collectPending({ follow: true }).catch(() => undefined);
  }

  /** A host became reachable (its check succeeded): collect what finished there meanwhile. */
  onHostsChanged(list: readonly HostStatus[]): void {
    if (this.mode === 'cli' || this.closing) return;
    if (!list.some((h) => h.state === 'connected')) return;
    void this.collectPending({ follow: true, only: new Set(list.filter((h) => h.state === 'connected').map((h) => h.config.name)) }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closeController.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  // ------------------------------------------------------------------ list / get

  async list(opts: { refresh?: boolean } = {}): Promise<RunSummary[]> {
    if (opts.refresh) await this.collectPending({ follow: this.mode !== 'cli' });
    const [ids, pending] = await Promise.all([this.store.ids(), this.pending.list()]);
    const local = await Promise.all(ids.map((id) => this.localSummary(id)));
    const localIds = new Set(ids);
    const remote = pending.filter((p) => !localIds.has(p.runId)).map((p) => this.pendingSummary(p));
    return [...local, ...remote].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  async get(ref: string): Promise<RunDetail> {
    const id = await this.resolveRunId(ref);
    const pending = await this.pending.get(id);
    if (pending && !(await this.store.has(id))) {
      return { summary: this.pendingSummary(pending), run: null, metrics: null, metricsSource: null, import: null, kvTransfer: [], traceTtft: null, files: [], dir: null };
    }
    const local = await this.store.read(id);
    const summary = await this.localSummary(id);
    const files = await this.store.manifest(id);
    if (!local.run) return { summary, run: null, metrics: null, metricsSource: null, import: null, kvTransfer: [], traceTtft: null, files, dir: local.dir };
    const { metrics, source } = await this.metricsOf(local);
    const sf = await this.store.readJson(id, RUN_FILES.summary, SummaryFile).catch(() => null);
    const imp = await this.store.readJson(id, RUN_FILES.import, ImportInfo).catch(() => null);
    return { summary, run: local.run, metrics, metricsSource: source, import: imp, kvTransfer: sf?.kvTransfer ?? [], traceTtft: sf?.traceTtft ?? null, files, dir: local.dir };
  }

  private async metricsOf(local: LocalRun): Promise<LoadedMetrics> {
    const sf = await this.store.readJson(local.id, RUN_FILES.summary, SummaryFile);
    if (sf?.metrics) return { metrics: sf.metrics, source: 'summary' };
    const records = await this.store.readJsonl(local.id, RUN_FILES.requests, RequestRecord);
    if (records.length) {
      const slos = slosOf(local.run?.workload.goodput);
      const m = computeRunMetrics(records, { streaming: local.run?.workload.streaming ?? true, ...(slos ? { slos } : {}) });
      return { metrics: MetricsView.parse(m), source: 'records' };
    }
    const imp = await this.store.readJson(local.id, RUN_FILES.import, ImportInfo);
    if (imp?.reported) return { metrics: imp.reported, source: 'reported' };
    return { metrics: null, source: null };
  }

  private async localSummary(id: string): Promise<RunSummary> {
    const local = await this.store.read(id);
    const hit = this.cache.get(id);
    if (hit && hit.mtimeMs === local.mtimeMs && local.run) return hit.summary;
    const base: RunSummary = {
      id,
      name: null,
      group: null,
      status: 'damaged',
      location: 'local',
      host: null,
      tool: 'unknown',
      imported: false,
      simulated: false,
      deployment: null,
      deploymentId: null,
      createdAt: new Date(local.mtimeMs).toISOString(),
      finishedAt: null,
      workload: {},
      loadPoint: null,
      headline: null,
      progress: null,
      taskId: null,
      problem: local.problem,
    };
    if (!local.run) return base;
    const r = local.run;
    let metrics: MetricsView | null = null;
    let problem: string | null = null;
    try {
      metrics = (await this.metricsOf(local)).metrics;
    } catch (err) {
      problem = errorMessage(err);
    }
    const summary: RunSummary = {
      ...base,
      name: r.name ?? null,
      group: r.group ?? null,
      // A record whose files cannot be read is damaged, whatever its run.json says.
      status: problem ? 'damaged' : r.status === 'running' ? 'partial' : r.status,
      tool: r.tool.name,
      imported: r.imported,
      simulated: r.simulated,
      deployment: r.deployment,
      host: r.hosts[0]?.name ?? null,
      createdAt: r.timings.createdAt,
      finishedAt: r.timings.finishedAt,
      workload: r.workload,
      loadPoint: loadPointOf(r.workload),
      headline: headlineOf(metrics, r.deployment?.gpuCount ?? null),
      problem,
    };
    if (!problem) this.cache.set(id, { mtimeMs: local.mtimeMs, summary });
    return summary;
  }

  private pendingSummary(p: PendingRun): RunSummary {
    const live = this.live.get(p.runId) ?? null;
    return {
      id: p.runId,
      name: p.name,
      group: p.group,
      status: 'running',
      location: 'host',
      host: p.host,
      tool: p.tool,
      imported: false,
      simulated: p.simulated,
      deployment: p.deployment,
      deploymentId: p.deploymentId,
      createdAt: p.createdAt,
      finishedAt: null,
      workload: p.workload,
      loadPoint: loadPointOf(p.workload),
      headline: null,
      progress: live,
      taskId: this.follows.get(p.runId)?.taskId ?? null,
      problem: p.problem,
    };
  }

  /** A run id, or a unique prefix of one. */
  private async resolveRunId(ref: string): Promise<string> {
    const r = await this.resolve(ref);
    if (r.kind === 'group') throw new UserFacingError('run-is-group', `"${ref}" is a sweep of ${r.ids.length} runs (${r.ids.join(', ')}); give one run id.`);
    return r.id;
  }

  private async resolve(ref: string): Promise<{ kind: 'run'; id: string } | { kind: 'group'; id: string; ids: string[] }> {
    const list = await this.list();
    if (list.some((r) => r.id === ref)) return { kind: 'run', id: ref };
    const groupRuns = (g: string) => list.filter((r) => r.group === g).map((r) => r.id);
    if (groupRuns(ref).length) return { kind: 'group', id: ref, ids: groupRuns(ref) };
    const runs = list.filter((r) => r.id.startsWith(ref)).map((r) => r.id);
    const groups = [...new Set(list.map((r) => r.group).filter((g): g is string => !!g && g.startsWith(ref)))];
    if (runs.length === 1 && groups.length === 0) return { kind: 'run', id: runs[0]! };
    if (groups.length === 1 && runs.length === 0) return { kind: 'group', id: groups[0]!, ids: groupRuns(groups[0]!) };
    if (runs.length + groups.length > 1) throw new UserFacingError('ambiguous-run', `"${ref}" matches several runs or sweeps (${[...runs, ...groups].slice(0, 8).join(', ')}); give more of the id.`);
    throw new UserFacingError('unknown-run', `There is no run or sweep "${ref}". List them with "handoff runs".`);
  }

  private async changed(): Promise<void> {
    try {
      this.emit('changed', await this.list());
    } catch {
      // Listing failed (store unreadable): the next successful change reports it.
    }
  }

  // ------------------------------------------------------------------ import

  async import(params: ImportParams): Promise<{ runs: RunSummary[]; reports: ImportReport[] }> {
    const sources = [
      ...(params.paths?.length ? await collectImportSources(params.paths, params.name) : []),
      ...(params.files?.length ? [sourceFromFiles(params.files as ArtifactFile[], params.name)] : []),
    ];
    // All sources are read and checked before anything is stored: a bad file stores nothing.
    const prepared: PreparedImport[] = sources.map((s) => {
      try {
        return prepareImport(s);
      } catch (err) {
        if (err instanceof UserFacingError && sources.length > 1) throw new UserFacingError(err.code, `${s.sources.join(', ')}: ${err.message} Nothing was imported.`);
        if (err instanceof UserFacingError) throw new UserFacingError(err.code, `${err.message} Nothing was imported.`);
        throw err;
      }
    });
    const stored: string[] = [];
    const reports: ImportReport[] = [];
    try {
      for (const p of prepared) {
        const id = newId('imp', () => crypto.randomBytes(2).toString('hex'));
        await this.storeImport(id, p);
        stored.push(id);
        const { sources: src, tool, kinds, schemas, recordCount, comparedCount, disagreements, ignored, notes } = p.info;
        reports.push({ runId: id, sources: src, tool, kinds, schemas, recordCount, comparedCount, disagreements, ignored, notes });
      }
    } catch (err) {
      for (const id of stored) await this.store.remove(id).catch(() => undefined);
      throw err;
    }
    void this.changed();
    return { runs: await Promise.all(stored.map((id) => this.localSummary(id))), reports };
  }

  private async storeImport(id: string, p: PreparedImport): Promise<void> {
    const { imported, info } = p;
    const now = new Date().toISOString();
    const artifacts = p.kept.map((f) => ({ path: `${RUN_FILES.artifacts}/${f.name}`, kind: f.kind }));
    const run: RunJson = {
      schema: 1,
      id,
      name: p.source.name,
      group: null,
      status: 'complete',
      simulated: false,
      imported: true,
      tool: { name: imported.tool, version: imported.toolVersion },
      versions: { handoff: HANDOFF_VERSION, ...(imported.toolVersion ? { [imported.tool]: imported.toolVersion } : {}) },
      deployment: null,
      hosts: [],
      timings: { createdAt: now, startedAt: imported.startedAt, finishedAt: imported.finishedAt ?? now, originEpochNs: null },
      workload: imported.workload,
      artifacts,
      notes: [
        `Imported from ${info.sources.join(', ')}.`,
        ...(imported.disagreements.length ? [`${imported.disagreements.length} of ${imported.comparedCount} figures the tool reported differ from those recomputed from its per-request records (see import.json).`] : []),
        ...imported.notes,
      ],
    };
    const w = await this.store.begin(id);
    try {
      await w.write(RUN_FILES.runJson, JSON.stringify(run, null, 2) + '\n');
      await w.write(RUN_FILES.requests, imported.requests?.length ? imported.requests.map((r) => JSON.stringify(r)).join('\n') + '\n' : '');
      await w.write(RUN_FILES.samples, '');
      await w.write(RUN_FILES.traces, '');
      const metrics = imported.recomputed ? MetricsView.parse(imported.recomputed) : null;
      await w.write(RUN_FILES.summary, JSON.stringify({ schema: 1, runId: id, metrics, kvTransfer: [], traceTtft: null, notes: [] }, null, 2) + '\n');
      await w.write(RUN_FILES.import, JSON.stringify(info, null, 2) + '\n');
      for (const f of p.kept) await w.write(`${RUN_FILES.artifacts}/${f.name}`, f.text);
      await w.commit();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  // ------------------------------------------------------------------ delete

  async delete(ref: string): Promise<{ deleted: string[] }> {
    const r = await this.resolve(ref);
    const ids = r.kind === 'group' ? r.ids : [r.id];
    const deleted: string[] = [];
    for (const id of ids) {
      if (this.follows.has(id)) throw new UserFacingError('run-active', `Run "${id}" is still running; cancel it first ("handoff runs cancel ${id}" or Ctrl-C in its "handoff bench").`);
      if (await this.store.has(id)) await this.store.remove(id);
      const p = await this.pending.get(id);
      if (p) {
        // Left on a host and never collected: forget it here and remove it there when reachable.
        await this.withAgent(p.host, (a) => a.rpc.call('bench.remove', { runId: id }, { timeoutMs: 15_000 })).catch(() => undefined);
        await this.pending.remove(id);
      }
      this.cache.delete(id);
      this.live.delete(id);
      deleted.push(id);
    }
    void this.changed();
    return { deleted };
  }

  private async withAgent<T>(host: string, fn: (a: AgentConnection) => Promise<T>): Promise<T> {
    const signal = AbortSignal.any([this.closeController.signal, AbortSignal.timeout(20_000)]);
    return fn(await this.hosts.agent(host, signal));
  }

  // ------------------------------------------------------------------ start / sweep / cancel

  async start(raw: z.input<typeof StartRunParams>): Promise<{ runIds: string[]; group: string | null; task: Task }> {
    const params = StartRunParams.parse(raw);
    return this.launch(params, [{}]);
  }

  async sweep(raw: z.input<typeof SweepParams>): Promise<{ runIds: string[]; group: string | null; task: Task }> {
    const params = SweepParams.parse(raw);
    const points = params.concurrencies ? params.concurrencies.map((c) => ({ concurrency: c })) : params.requestRates!.map((r) => ({ requestRate: r }));
    return this.launch(params, points);
  }

  private async launch(params: z.infer<typeof StartRunParams>, points: Array<{ concurrency?: number; requestRate?: number }>): Promise<{ runIds: string[]; group: string | null; task: Task }> {
    const record = await this.deployments.resolve(params.deployment);
    const target = benchTarget(record, await this.hosts.list());
    const base = {
      ...params.workload,
      model: params.workload.model ?? target.servedModel,
      // External tools load the tokenizer by hub id or path; the served name may be an alias.
      tokenizer: params.workload.tokenizer ?? target.modelPath,
    };
    const workloads = points.map((p) => ({ ...base, ...p }));
    // Every point is checked before anything starts, so a bad value fails at once with its message.
    const resolved = workloads.map((w) => resolveWorkload(w));
    const rand = () => crypto.randomBytes(2).toString('hex');
    const runIds = points.map(() => newId('run', rand));
    const group = points.length > 1 ? newId('sweep', rand) : null;
    const labels = resolved.map((w) => loadPointOf(runWorkload(w)) ?? 'run');
    const title =
      points.length > 1
        ? `Sweep ${record.name} over ${points[0]!.concurrency !== undefined ? `concurrency ${points.map((p) => p.concurrency).join(', ')}` : `${points.map((p) => p.requestRate).join(', ')} requests/s`}`
        : `Benchmark ${record.name} at ${labels[0]}`;
    const steps = [{ id: 'connect', label: `Reach the agent on ${target.host}` }, ...labels.map((l, i) => ({ id: `run-${i}`, label: `${l[0]!.toUpperCase()}${l.slice(1)}${points.length > 1 ? ` (${runIds[i]})` : ''}` }))];
    // The body's first await comes before any use of taskId, so it is set by then.
    let taskId = '';
    const task = this.tasks.start('bench', title, steps, async (ctx): Promise<BenchTaskResult> => {
      ctx.step('connect', 'running');
      await this.hosts.agent(target.host, ctx.signal);
      ctx.step('connect', 'done', target.host);
      const done: string[] = [];
      for (const [i, runId] of runIds.entries()) {
        ctx.throwIfCancelled();
        const stepId = `run-${i}`;
        const w = workloads[i]!;
        const name = params.name ? (points.length > 1 ? `${params.name} · ${labels[i]}` : params.name) : `${record.name} · ${labels[i]}`;
        await this.startOne(runId, { record, target, workload: w, resolvedWarmup: resolved[i]!.warmupRequestCount, tool: params.tool, toolArgs: params.toolArgs ?? [], clientCpus: params.clientCpus, name, group, taskId }, ctx, stepId);
        done.push(runId);
        const s = await this.localSummary(runId).catch(() => null);
        if (s?.status === 'failed') {
          ctx.step(stepId, 'failed', s.problem ?? 'the run failed');
          const run = (await this.store.read(runId)).run;
          throw new UserFacingError('run-failed', `Run ${runId} failed on ${target.host}: ${run?.notes.at(-1) ?? 'see "handoff runs show ' + runId + '"'}`);
        }
        ctx.step(stepId, 'done', `${s?.status ?? 'collected'}${s?.headline ? ` · ${describeHeadline(s.headline)}` : ''} · ${runId}`);
      }
      return { runIds: done, group, runs: await Promise.all(done.map((id) => this.localSummary(id))) };
    });
    taskId = task.id;
    return { runIds, group, task };
  }

  private async startOne(
    runId: string,
    o: { record: DeploymentRecord; target: BenchTarget; workload: Record<string, unknown> & { model: string }; resolvedWarmup: number; tool: 'builtin' | 'genai-perf' | 'aiperf'; toolArgs: string[]; clientCpus: string | undefined; name: string; group: string | null; taskId: string },
    ctx: TaskContext,
    stepId: string,
  ): Promise<void> {
    const { record, target } = o;
    const workload = runWorkload(resolveWorkload(o.workload));
    await this.pending.put({
      runId,
      host: target.host,
      deploymentId: record.id,
      group: o.group,
      name: o.name,
      createdAt: new Date().toISOString(),
      tool: o.tool,
      workload,
      deployment: target.deployment,
      simulated: record.simulated,
      problem: null,
    });
    this.follows.set(runId, { taskId: o.taskId });
    void this.changed();
    ctx.step(stepId, 'running', 'starting');
    const start: BenchStartInput = {
      runId,
      name: o.name,
      group: o.group,
      deploymentId: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(record.id) ? record.id : undefined,
      deployment: target.deployment,
      spec: record.spec,
      simulated: record.simulated,
      endpoint: target.endpoint,
      ...(target.tokenizeUrl ? { tokenizeUrl: target.tokenizeUrl } : {}),
      tool: o.tool,
      toolArgs: o.toolArgs,
      ...(o.clientCpus !== undefined ? { clientCpus: o.clientCpus } : {}),
      workload: o.workload as BenchStartInput['workload'],
      metricsUrls: target.metricsUrls,
      traceFiles: target.traceFiles,
      nixlTelemetry: target.nixlTelemetry,
      ...(target.kvBlock ? { kvBlock: target.kvBlock } : {}),
      hosts: target.hosts,
    };
    try {
      const agent = await this.hosts.agent(target.host, ctx.signal);
      // No abort signal here: a start the agent has accepted must be followed (and cancelled) like any run.
      await agent.rpc.call('bench.start', start, { timeoutMs: 60_000 });
    } catch (err) {
      this.follows.delete(runId);
      // bench.start may have reached the agent before the connection dropped: keep the entry then.
      if (errorCode(err) !== 'agent-disconnected') await this.pending.remove(runId);
      void this.changed();
      throw err;
    }
    try {
      await this.followAndCollect(runId, target.host, o.resolvedWarmup, ctx, stepId);
    } finally {
      this.follows.delete(runId);
      this.live.delete(runId);
      void this.changed();
    }
  }

  /**
   * Follows a run on its host until it ends, then copies it into the store. A dropped connection
   * is retried with backoff (the run goes on there); cancelling the task cancels the run
   * (bench.cancel) and still collects what it recorded; closing the controller leaves it running,
   * to be collected next time.
   */
  private async followAndCollect(runId: string, host: string, warmupTotal: number | null, ctx: TaskContext, stepId: string): Promise<void> {
    let attempt = 0;
    let cancelSent = false;
    const update = (s: BenchRunStatus, disconnected: string | null = null) => {
      this.live.set(runId, { phase: s.phase, done: s.done, total: s.total, errors: s.errors, warmupDone: s.warmupDone, live: s.live, toolMessage: s.toolMessage, disconnected });
      ctx.step(stepId, 'running', progressDetail(s, warmupTotal), progressFraction(s, warmupTotal));
    };
    const leftOnHost = () => new UserFacingError('closing', `Handoff closed while run ${runId} was going on; it goes on on ${host} and is collected the next time Handoff reaches it.`);
    for (;;) {
      if (this.closing) throw leftOnHost();
      let agent: AgentConnection;
      try {
        agent = await this.hosts.agent(host, AbortSignal.any([this.closeController.signal, AbortSignal.timeout(30_000)]));
      } catch (err) {
        if (this.closing) throw leftOnHost();
        const msg = `cannot reach ${host} (${errorMessage(err).split('\n')[0]}); the run goes on there — retrying`;
        const prev = this.live.get(runId);
        if (prev) this.live.set(runId, { ...prev, disconnected: msg });
        ctx.step(stepId, 'running', msg);
        await this.pending.setProblem(runId, msg);
        if (ctx.signal.aborted && attempt >= 2) {
          throw new UserFacingError('cancelled', `Cancelled, but ${host} could not be reached to stop run ${runId}; it goes on there and is collected when ${host} is reachable.`);
        }
        if (!RETRYABLE.has(errorCode(err)) && attempt >= 2) throw err;
        await sleep(this.delays[Math.min(attempt++, this.delays.length - 1)]!, AbortSignal.any([this.closeController.signal, ...(cancelSent ? [] : [ctx.signal])]));
        continue;
      }
      attempt = 0;
      await this.pending.setProblem(runId, null);
      const outcome = await this.waitForEnd(agent, runId, ctx.signal, update, () => cancelSent, () => (cancelSent = true));
      if (outcome === 'closing') throw leftOnHost();
      if (outcome === 'disconnected') {
        const msg = `connection to ${host} lost; the run goes on there — reconnecting`;
        const prev = this.live.get(runId);
        if (prev) this.live.set(runId, { ...prev, disconnected: msg });
        ctx.step(stepId, 'running', msg);
        continue;
      }
      ctx.step(stepId, 'running', 'copying the record to this computer');
      try {
        if (!(await this.store.has(runId))) await collectRun(agent.rpc, runId, this.store, this.closeController.signal);
        await this.pending.remove(runId);
        this.cache.delete(runId);
      } catch (err) {
        if (err instanceof RunStillRunning) {
          await sleep(500, this.closeController.signal);
          continue;
        }
        if (errorCode(err) === 'agent-disconnected' || errorCode(err) === 'agent-timeout') continue;
        if (this.closing) throw leftOnHost();
        await this.pending.setProblem(runId, errorMessage(err));
        throw err;
      }
      if (cancelSent) throw cancelledError();
      return;
    }
  }

  /** Resolves when the run has ended ('ended'), the connection dropped, or the controller closes. */
  private waitForEnd(
    agent: AgentConnection,
    runId: string,
    signal: AbortSignal,
    update: (s: BenchRunStatus) => void,
    wasCancelSent: () => boolean,
    markCancelSent: () => void,
  ): Promise<'ended' | 'disconnected' | 'closing'> {
    return new Promise((resolve) => {
      let settled = false;
      const cleanups: Array<() => void> = [];
      const finish = (v: 'ended' | 'disconnected' | 'closing') => {
        if (settled) return;
        settled = true;
        for (const c of cleanups) c();
        resolve(v);
      };
      const seen = (s: BenchRunStatus) => {
        if (settled) return;
        update(s);
        if (s.status !== 'running') finish('ended');
      };
      const ask = () =>
        agent.rpc.call('bench.status', { runId }, { timeoutMs: 20_000 }).then(seen, (err) => {
          if (errorCode(err) === 'agent-disconnected' || agent.rpc.closed) finish('disconnected');
        });
      const cancel = () => {
        if (this.closing || wasCancelSent()) return;
        markCancelSent();
        // bench.cancel returns once the run has stopped and its record is written.
        agent.rpc.call('bench.cancel', { runId }, { timeoutMs: 120_000 }).then(seen, (err) => {
          if (errorCode(err) === 'agent-disconnected' || agent.rpc.closed) finish('disconnected');
          else void ask();
        });
      };
      cleanups.push(agent.rpc.onAgentNotification('bench.progress', (p) => p.runId === runId && seen(p)));
      cleanups.push(agent.rpc.onClose(() => finish(this.closing ? 'closing' : 'disconnected')));
      const onClose = () => finish('closing');
      this.closeController.signal.addEventListener('abort', onClose, { once: true });
      cleanups.push(() => this.closeController.signal.removeEventListener('abort', onClose));
      if (signal.aborted) cancel();
      else {
        signal.addEventListener('abort', cancel, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', cancel));
      }
      const timer = setInterval(() => void ask(), this.pollMs);
      cleanups.push(() => clearInterval(timer));
      void ask();
    });
  }

  /** Cancels a run (its task, or directly on its host when nothing follows it here) or every run of a sweep. */
  async cancel(ref: string): Promise<RunSummary[]> {
    const r = await this.resolve(ref);
    const ids = r.kind === 'group' ? r.ids : [r.id];
    for (const id of ids) {
      const f = this.follows.get(id);
      if (f?.taskId) {
        this.tasks.cancel(f.taskId);
        continue;
      }
      const p = await this.pending.get(id);
      if (!p) continue;
      await this.withAgent(p.host, async (a) => {
        await a.rpc.call('bench.cancel', { runId: id }, { timeoutMs: 120_000 });
        await collectRun(a.rpc, id, this.store);
      });
      await this.pending.remove(id);
    }
    void this.changed();
    const list = await this.list();
    return list.filter((s) => ids.includes(s.id));
  }

  // ------------------------------------------------------------------ collect runs left on hosts

  /**
   * Looks at every run started here and not yet collected: finished ones are copied into the
   * store; running ones get a follower task (follow: true) or just their live status. Hosts that
   * cannot be reached keep their runs pending, with the reason.
   */
  collectPending(opts: { follow: boolean; only?: ReadonlySet<string> }): Promise<void> {
    if (this.collecting) return this.collecting;
    this.collecting = this.doCollectPending(opts).finally(() => {
      this.collecting = null;
    });
    return this.collecting;
  }

  private async doCollectPending(opts: { follow: boolean; only?: ReadonlySet<string> }): Promise<void> {
    const pending = (await this.pending.list()).filter((p) => !this.follows.has(p.runId) && (!opts.only || opts.only.has(p.host)));
    if (!pending.length) return;
    const byHost = new Map<string, PendingRun[]>();
    for (const p of pending) byHost.set(p.host, [...(byHost.get(p.host) ?? []), p]);
    let unreachable = false;
    let changed = false;
    await Promise.all(
      [...byHost].map(async ([host, runs]) => {
        let agent: AgentConnection;
        try {
          agent = await this.hosts.agent(host, AbortSignal.any([this.closeController.signal, AbortSignal.timeout(30_000)]));
        } catch (err) {
          unreachable = true;
          for (const p of runs) await this.pending.setProblem(p.runId, `cannot reach ${host}: ${errorMessage(err).split('\n')[0]}`);
          return;
        }
        for (const p of runs) {
          if (this.closing) return;
          try {
            if (await this.store.has(p.runId)) {
              await this.pending.remove(p.runId);
              changed = true;
              continue;
            }
            const s = await agent.rpc.call('bench.status', { runId: p.runId }, { timeoutMs: 20_000 });
            if (s.status === 'running') {
              this.live.set(p.runId, { phase: s.phase, done: s.done, total: s.total, errors: s.errors, warmupDone: s.warmupDone, live: s.live, toolMessage: s.toolMessage, disconnected: null });
              if (opts.follow) this.followExisting(p);
              continue;
            }
            await collectRun(agent.rpc, p.runId, this.store, this.closeController.signal);
            await this.pending.remove(p.runId);
            this.live.delete(p.runId);
            changed = true;
          } catch (err) {
            if (errorCode(err) === 'unknown-run') {
              await this.pending.setProblem(p.runId, `${host} has no record of this run (its agent home was removed?). Delete it with "handoff runs delete ${p.runId}".`);
            } else await this.pending.setProblem(p.runId, errorMessage(err));
          }
        }
      }),
    );
    if (changed) void this.changed();
    if (unreachable && opts.follow && !this.closing && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.collectPending({ follow: true }).catch(() => undefined);
      }, 30_000);
      this.retryTimer.unref();
    }
  }

  /** A follower task for a run this controller did not start (or started before a restart). */
  private followExisting(p: PendingRun): void {
    if (this.follows.has(p.runId)) return;
    const label = loadPointOf(p.workload) ?? 'run';
    const task = this.tasks.start('bench-resume', `Benchmark ${p.deployment?.name ?? p.runId} at ${label} (resumed)`, [{ id: 'run-0', label: `${label[0]!.toUpperCase()}${label.slice(1)} (${p.runId})` }], async (ctx) => {
      try {
        await this.followAndCollect(p.runId, p.host, p.workload.warmupRequestCount ?? null, ctx, 'run-0');
      } finally {
        this.follows.delete(p.runId);
        this.live.delete(p.runId);
        void this.changed();
      }
      const s = await this.localSummary(p.runId);
      ctx.step('run-0', 'done', `${s.status}${s.headline ? ` · ${describeHeadline(s.headline)}` : ''}`);
      return { runIds: [p.runId], group: p.group, runs: [s] } satisfies BenchTaskResult;
    });
    this.follows.set(p.runId, { taskId: task.id });
  }

  // ------------------------------------------------------------------ compare

  async compare(params: CompareParams): Promise<Comparison> {
    const [ra, rb] = await Promise.all([this.resolve(params.a), this.resolve(params.b)]);
    if (ra.kind !== rb.kind) {
      throw new UserFacingError('compare-mixed', `"${params.a}" is ${ra.kind === 'group' ? 'a sweep' : 'a run'} and "${params.b}" is ${rb.kind === 'group' ? 'a sweep' : 'a run'}. Compare two runs or two sweeps.`);
    }
    if (ra.kind === 'run' && rb.kind === 'run') {
      if (ra.id === rb.id) throw new UserFacingError('compare-same', `Both sides are run ${ra.id}; give two different runs.`);
      return compareRuns(await this.comparable(ra.id, params.gpuCountA), await this.comparable(rb.id, params.gpuCountB));
    }
    const ga = ra as { id: string; ids: string[] };
    const gb = rb as { id: string; ids: string[] };
    const runsA = await Promise.all(ga.ids.map((id) => this.comparable(id, params.gpuCountA)));
    const runsB = await Promise.all(gb.ids.map((id) => this.comparable(id, params.gpuCountB)));
    const label = (g: { id: string }, runs: ComparableRun[]) => `${runs[0]?.label.split(' · ')[0] ?? g.id} sweep`;
    return compareGroups({ id: ga.id, label: label(ga, runsA), runs: runsA }, { id: gb.id, label: label(gb, runsB), runs: runsB });
  }

  private async comparable(id: string, gpuOverride: number | undefined): Promise<ComparableRun> {
    const local = await this.store.read(id).catch(() => null);
    if (!local) throw new UserFacingError('run-not-collected', `Run ${id} is not on this computer yet (still running or not collected from its host). Wait for it, or run "handoff runs" to collect it.`);
    if (!local.run) throw new UserFacingError('run-damaged', local.problem ?? `Run ${id} is damaged.`);
    const { metrics } = await this.metricsOf(local);
    if (!metrics) throw new UserFacingError('run-no-metrics', `Run ${id} has no figures to compare (no requests were recorded).`);
    const r = local.run;
    return {
      id,
      label: r.name ?? r.deployment?.name ?? id,
      group: r.group ?? null,
      mode: r.deployment?.mode ?? null,
      gpuCount: gpuOverride ?? (r.deployment?.gpuCount || null),
      simulated: r.simulated,
      tool: r.tool.name,
      workload: r.workload,
      metrics,
    };
  }
}

export function describeHeadline(h: RunHeadline): string {
  const parts: string[] = [];
  if (h.requestCount !== null) parts.push(`${h.requestCount} requests${h.errorCount ? `, ${h.errorCount} failed` : ''}`);
  if (h.outputTokensPerS !== null) parts.push(`${Math.round(h.outputTokensPerS).toLocaleString('en-US')} tok/s`);
  if (h.ttftP50Ms !== null) parts.push(`TTFT p50 ${h.ttftP50Ms.toFixed(1)} ms`);
  if (h.itlP50Ms !== null) parts.push(`ITL p50 ${h.itlP50Ms.toFixed(2)} ms`);
  return parts.join(', ');
}
