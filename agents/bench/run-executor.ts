import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { importArtifacts } from '../../common/artifacts';
import { runWorkload, type BenchProgress, type BenchRunStatus, type BenchStartParams, type BenchSummary, type LiveMetrics, type ResolvedWorkload } from '../../common/bench-rpc';
import { toErrorPayload, UserFacingError } from '../../common/errors';
import { blockLatencySummary } from '../../common/metrics/kv-transfer';
import { computeRunMetrics } from '../../common/metrics/run-metrics';
import { summarize } from '../../common/metrics/stats';
import { findBuiltinModel, kvBytesPerBlock } from '../../common/model-config';
import { readLocalModelConfig } from '../host/local-model-config';
import type { MetricSample, RequestRecord, RunArtifact, RunJson, RunStatus } from '../../common/run-record';
import { HANDOFF_VERSION } from '../../common/version';
import type { AgentLogger } from '../rpc/agent-logger';
import { endpointPath, genaiPerfRunDirName, paRequestJson, PROFILE_EXPORT, GENAI_PERF_JSON, GENAI_PERF_CSV, telemetryStats, writeGenaiPerfSummaries, writeProfileExport } from './genai-perf-export';
import { pinAgent, pinnedCommand } from './client-affinity';
import { findTool, parseToolProgress, startTool, toolMissingError } from './external-tool';
import { runLoad, type RequestPhase } from './load-generator';
import { buildPrompts, type Prompt } from './prompt-builder';
import { parseExchange } from './response-record';
import { JsonlAppender, PARTIAL_SUFFIX, promotePartials, writeFileAtomic, type RunStore } from './run-store';
import { RunSampler } from './run-sampler';
import { seededRng, subSeed } from './seeded-rng';
import { toolArgv, toolLimitations, type ExternalTool } from './tool-argv';
import { mapLimit, TokenizerClient } from './tokenizer-client';
import { collectTraces } from './trace-collector';
import { startTransferCollection, type TransferCollection } from './transfer-collection';

/**
 * One benchmark run inside the agent daemon, from start to a complete record on disk. Nothing
 * here depends on the client that started it: a dropped SSH connection changes nothing, and the
 * record is fetched later with bench.fetch. Files (reference: DESIGN.md "Run record"):
 *   run.json          atomically replaced; "running" until the end, then complete/partial/failed
 *   requests.jsonl    one RequestRecord per request (warmup marked), times in ns since the origin
 *   samples.jsonl     /metrics scrapes and nvidia-smi samples, tMs = ms since the origin
 *   traces.jsonl      the router's records of this run's requests
 *   transfers.jsonl   NIXL per-transfer telemetry of the decode workers (when they write it)
 *   summary.json      metrics (common/metrics), per-block KV latency, TTFT vs router
 *   progress.json     the final bench.status
 *   artifacts/        genai-perf layout (built-in) or the external tool's own directory
 *   tool.log          the external tool's output
 */

export interface ExecutorDeps {
  store: RunStore;
  emit(progress: BenchProgress): void;
  log: AgentLogger;
  nvidiaSmi?: string;
  findTool?: (tool: string) => Promise<string | null>;
  /** Live progress notifications at most this often. */
  progressIntervalMs?: number;
}

/** Output texts kept for re-tokenizing after the run. */
interface OutputText {
  content: string;
  reasoning: string;
}

const RECENT = 2_000;

export class BenchRun {
  readonly id: string;
  readonly dir: string;
  private readonly abort = new AbortController();
  private readonly originNs: bigint;
  private readonly originEpochMs: number;
  private readonly originEpochNs: bigint;
  private readonly state: BenchRunStatus;
  private runJson: RunJson;
  private readonly notes: string[] = [];
  private lastEmitMs = 0;
  private emitTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  done: Promise<void> = Promise.resolve();

  // Live figures over profiling requests.
  private inFlight = 0;
  private profilingStartMs: number | null = null;
  private outputTokens = 0;
  private recentTtft: number[] = [];
  private recentItl: number[] = [];
  private recentLatency: number[] = [];

  constructor(
    private readonly params: BenchStartParams,
    private readonly w: ResolvedWorkload,
    private readonly deps: ExecutorDeps,
  ) {
    this.id = params.runId;
    this.dir = deps.store.create(params.runId);
    // One origin for every time of the run: the monotonic clock for measuring, and the wall clock
    // at the same instant (the router's trace clock is performance.timeOrigin + now as well).
    this.originNs = process.hrtime.bigint();
    this.originEpochMs = performance.timeOrigin + performance.now();
    const wholeMs = Math.floor(this.originEpochMs);
    this.originEpochNs = BigInt(wholeMs) * 1_000_000n + BigInt(Math.round((this.originEpochMs - wholeMs) * 1e6));
    const now = new Date().toISOString();
    this.state = {
      runId: params.runId,
      tool: params.tool,
      status: 'running',
      phase: 'preparing',
      done: 0,
      total: w.requestCount,
      errors: 0,
      warmupDone: 0,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      error: null,
      cancelled: false,
      live: null,
      toolMessage: null,
    };
    this.runJson = {
      schema: 1,
      id: params.runId,
      name: params.name ?? null,
      group: params.group ?? null,
      status: 'running',
      simulated: params.simulated,
      imported: false,
      tool: { name: params.tool, version: params.tool === 'builtin' ? HANDOFF_VERSION : null },
      versions: { handoff: HANDOFF_VERSION, node: process.version },
      spec: params.spec,
      deployment: params.deployment ?? null,
      hosts: params.hosts.length ? params.hosts : [{ name: os.hostname(), hostname: os.hostname() }],
      timings: { createdAt: now, startedAt: null, finishedAt: null, originEpochNs: String(this.originEpochNs) },
      workload: runWorkload(w),
      artifacts: [],
      notes: [],
    };
    deps.store.writeRunJson(this.id, this.runJson);
  }

  start(): void {
    this.done = this.execute();
  }

  cancel(): void {
    if (this.state.status !== 'running') return;
    this.state.cancelled = true;
    this.abort.abort();
    this.emit(true);
  }

  /** Daemon shutdown: stop like a cancel, and say why in the record. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.cancel();
    await this.done;
  }

  status(): BenchRunStatus {
    return { ...this.state, live: this.state.status === 'running' ? this.live() : this.state.live };
  }

  private nowMs(): number {
    return Number(process.hrtime.bigint() - this.originNs) / 1e6;
  }

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  private setPhase(phase: BenchRunStatus['phase']): void {
    this.state.phase = phase;
    this.emit(true);
  }

  private emit(force = false): void {
    const now = Date.now();
    const every = this.deps.progressIntervalMs ?? 500;
    if (!force && now - this.lastEmitMs < every) {
      if (!this.emitTimer) {
        this.emitTimer = setTimeout(() => {
          this.emitTimer = null;
          this.emit(true);
        }, every - (now - this.lastEmitMs));
        this.emitTimer.unref();
      }
      return;
    }
    this.lastEmitMs = now;
    this.deps.emit({ ...this.status(), at: new Date().toISOString() });
  }

  private live(): LiveMetrics {
    const elapsedS = this.profilingStartMs === null ? 0 : (this.nowMs() - this.profilingStartMs) / 1000;
    const pct = (a: number[], p: 'p50' | 'p99') => summarize(a)?.[p] ?? null;
    return {
      elapsedS,
      inFlight: this.inFlight,
      requestsPerS: elapsedS > 0 ? this.state.done / elapsedS : null,
      outputTokensPerS: elapsedS > 0 ? this.outputTokens / elapsedS : null,
      ttftP50Ms: pct(this.recentTtft, 'p50'),
      ttftP99Ms: pct(this.recentTtft, 'p99'),
      itlP50Ms: pct(this.recentItl, 'p50'),
      latencyP50Ms: pct(this.recentLatency, 'p50'),
    };
  }

  private async execute(): Promise<void> {
    const requestsFile = path.join(this.dir, `requests.jsonl${PARTIAL_SUFFIX}`);
    const samplesOut = new JsonlAppender(path.join(this.dir, `samples.jsonl${PARTIAL_SUFFIX}`), 500);
    const sampler = new RunSampler({
      targets: this.params.metricsUrls,
      gpu: this.params.gpuTelemetry,
      intervalMs: this.params.sampleIntervalMs,
      nowMs: () => this.nowMs(),
      write: (s: MetricSample) => samplesOut.append(JSON.stringify(s)),
      note: (t) => this.note(t),
      ...(this.deps.nvidiaSmi ? { nvidiaSmi: this.deps.nvidiaSmi } : {}),
    });
    let records: RequestRecord[] = [];
    let artifacts: RunArtifact[] = [];
    let summary: BenchSummary = { schema: 1, runId: this.id, metrics: null, kvTransfer: [], traceTtft: null, notes: [] };
    let failure: unknown = null;
    const startedAt = new Date().toISOString();
    this.state.startedAt = startedAt;
    this.runJson.timings.startedAt = startedAt;
    this.emit(true);
    sampler.start();
    const transfers: TransferCollection | null = startTransferCollection(this.params.nixlTelemetry, this.dir, () => this.bytesPerBlock(), () => this.nowMs(), (t) => this.note(t));
    try {
      if (this.params.tool === 'builtin') {
        const cpus = this.params.clientCpus;
        const release = cpus === undefined ? null : await pinAgent(cpus);
        if (cpus !== undefined) this.runJson.tool.cpus = cpus;
        try {
          ({ records, artifacts } = await this.runBuiltin(requestsFile, sampler));
        } finally {
          await release?.();
        }
      } else ({ records, artifacts } = await this.runExternal(this.params.tool, requestsFile));
    } catch (err) {
      failure = err;
    }
    try {
      this.setPhase('collecting');
      await sampler.stop();
      samplesOut.close();
      await transfers?.stop();
      summary = await this.finishRecord(records, sampler, summary);
    } catch (err) {
      failure ??= err;
      try {
        samplesOut.close();
      } catch {
        // already closed
      }
      await transfers?.stop().catch(() => undefined);
    }
    const status: RunStatus = failure !== null ? (records.length > 0 ? 'partial' : 'failed') : this.state.cancelled ? 'partial' : 'complete';
    if (failure !== null) {
      const msg = toErrorPayload(failure).message;
      this.state.error = msg;
      this.note(`The run stopped with an error: ${msg}`);
      if (!(failure instanceof UserFacingError)) this.deps.log.error('bench run failed', { runId: this.id, error: failure instanceof Error ? failure.stack : String(failure) });
    }
    if (this.state.cancelled) this.note(this.shuttingDown ? 'The agent daemon was stopped during the run; the record holds the requests that finished.' : 'Cancelled by the user; the record holds the requests that finished.');
    try {
      promotePartials(this.dir, true);
    } catch (err) {
      this.note(`Could not finalise every record file: ${String(err)}`);
    }
    summary.notes = [...this.notes];
    writeFileAtomic(path.join(this.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    const finishedAt = new Date().toISOString();
    this.state.status = status;
    this.state.phase = 'done';
    this.state.finishedAt = finishedAt;
    this.state.live = this.live();
    this.state.total ??= this.state.done;
    writeFileAtomic(path.join(this.dir, 'progress.json'), JSON.stringify(this.state, null, 2) + '\n');
    this.runJson = { ...this.runJson, status, artifacts, notes: [...this.notes], timings: { ...this.runJson.timings, finishedAt } };
    // run.json last: once it says complete, every other file is in place.
    this.deps.store.writeRunJson(this.id, this.runJson);
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emit(true);
  }

  // ------------------------------------------------------------------ built-in generator

  private async runBuiltin(requestsFile: string, sampler: RunSampler): Promise<{ records: RequestRecord[]; artifacts: RunArtifact[] }> {
    const w = this.w;
    const signal = this.abort.signal;
    const tok = new TokenizerClient(this.params.tokenizeUrl ?? this.params.endpoint, w.model, signal);
    // A counted run never uses more distinct prompts than it sends.
    const promptCount = w.requestCount === null ? w.numDatasetEntries : Math.min(w.numDatasetEntries, w.requestCount + w.warmupRequestCount);
    const set = await buildPrompts(tok, { count: promptCount, islMean: w.islMean, islStddev: w.islStddev, seed: w.randomSeed });
    if (set.inexact > 0) this.note(`${set.inexact} of ${set.prompts.length} prompts could not be cut to exactly their target length with this tokenizer; their ISL is the nearest reachable (recorded per request).`);
    if (signal.aborted) return { records: [], artifacts: [] };

    const runDirName = genaiPerfRunDirName(w);
    const artifactDir = path.join(this.dir, 'artifacts', runDirName);
    fs.mkdirSync(artifactDir, { recursive: true });
    const paFile = path.join(artifactDir, `.pa-requests.jsonl${PARTIAL_SUFFIX}`);
    const paOut = new JsonlAppender(paFile, 500);
    const reqOut = new JsonlAppender(requestsFile, 200);
    const records: RequestRecord[] = [];
    const texts = new Map<RequestRecord, OutputText>();
    const retokenize = w.outputTokenCount === 'retokenize';
    const oslRngs = { warmup: seededRng(subSeed(w.randomSeed, 4)), profiling: seededRng(subSeed(w.randomSeed, 2)) };
    const promptOf = (phase: RequestPhase, index: number): Prompt => set.prompts[((phase === 'warmup' ? 0 : w.warmupRequestCount) + index) % set.prompts.length]!;
    const payloads = new Map<string, string>();
    let profilingFirstSendNs: number | null = null;
    let profilingLastNs = 0;

    const bodyOf = (phase: RequestPhase, index: number): Buffer => {
      const osl = w.oslMean === null ? null : Math.max(1, Math.round(oslRngs[phase].gauss(w.oslMean, w.oslStddev)));
      const body: Record<string, unknown> = { model: w.model };
      const prompt = promptOf(phase, index).text;
      if (w.endpointType === 'chat') body.messages = [{ role: 'user', content: prompt }];
      else body.prompt = prompt;
      body.stream = w.streaming;
      if (w.streaming) body.stream_options = { include_usage: true };
      const maxTokens = w.exactOutput ? (osl ?? w.maxTokens) : (w.maxTokens ?? osl);
      if (maxTokens !== null) body.max_tokens = maxTokens;
      const minTokens = w.exactOutput ? maxTokens : w.minTokens;
      if (minTokens !== null) body.min_tokens = minTokens;
      if (w.ignoreEos) body.ignore_eos = true;
      Object.assign(body, w.extraBody);
      return Buffer.from(JSON.stringify(body));
    };
    const idOf = (phase: RequestPhase, index: number) => `${this.id}-${phase === 'warmup' ? 'w' : 'p'}${index}`;

    this.state.total = w.requestCount;
    const outcome = await runLoad({
      endpoint: this.params.endpoint,
      path: endpointPath(w),
      concurrency: w.concurrency,
      requestRate: w.requestRate,
      arrival: w.arrival,
      requestCount: w.requestCount,
      durationS: w.durationS,
      warmupRequestCount: w.warmupRequestCount,
      seed: w.randomSeed,
      signal,
      body: (phase, index) => {
        const b = bodyOf(phase, index);
        this.inFlight++;
        if (phase === 'profiling') payloads.set(idOf(phase, index), b.toString('utf8'));
        return b;
      },
      requestId: idOf,
      onPhase: (phase) => {
        if (phase === 'profiling') this.profilingStartMs = this.nowMs();
        this.setPhase(phase);
      },
      onResult: (phase, index, id, ex) => {
        this.inFlight--;
        const parsed = parseExchange(ex, this.originNs, w.streaming);
        const rec: RequestRecord = { id, phase, ...parsed.record, inputTokens: promptOf(phase, index).tokens };
        records.push(rec);
        if (retokenize && rec.error === null) texts.set(rec, { content: parsed.content, reasoning: parsed.reasoning });
        reqOut.append(JSON.stringify(rec));
        if (phase === 'warmup') {
          this.state.warmupDone++;
          payloads.delete(id);
          this.emit();
          return;
        }
        if (profilingFirstSendNs === null || rec.sendNs < profilingFirstSendNs) profilingFirstSendNs = rec.sendNs;
        profilingLastNs = Math.max(profilingLastNs, rec.lastTokenNs ?? Number(ex.endNs - this.originNs));
        if (rec.error !== null && rec.error.code === 499 && rec.error.type === 'Cancelled') {
          // Aborted by a cancel: kept in requests.jsonl as an error, not counted as done.
        } else this.state.done++;
        if (rec.error !== null) this.state.errors++;
        else {
          this.outputTokens += rec.outputTokens.usage ?? rec.outputTokens.chunks ?? 0;
          if (rec.firstTokenNs !== null && rec.lastTokenNs !== null) {
            const ttft = (rec.firstTokenNs - rec.sendNs) / 1e6;
            const lat = (rec.lastTokenNs - rec.sendNs) / 1e6;
            push(this.recentLatency, lat);
            if (w.streaming) {
              push(this.recentTtft, ttft);
              const osl = rec.outputTokens.usage ?? rec.outputTokens.chunks ?? 0;
              if (osl >= 2 && lat > ttft) push(this.recentItl, (lat - ttft) / (osl - 1));
            }
          }
        }
        const payload = payloads.get(id) ?? '';
        payloads.delete(id);
        paOut.append(paRequestJson(this.originEpochNs + BigInt(rec.sendNs), payload, parsed.events.map((e) => ({ epochNs: this.originEpochNs + BigInt(e.ns), text: e.text }))));
        this.emit();
      },
    });
    reqOut.close();
    paOut.close();
    if (outcome.cancelled) this.state.cancelled = true;

    if (retokenize && texts.size > 0) {
      this.setPhase('collecting');
      const entries = [...texts.entries()];
      let failed = 0;
      // Counted after the load, so the extra /tokenize calls never compete with measured requests.
      const countTok = new TokenizerClient(tok.baseUrl, w.model);
      await mapLimit(entries, 8, async ([rec, t]) => {
        try {
          const content = t.content ? await countTok.count(t.content) : 0;
          const reasoning = t.reasoning ? await countTok.count(t.reasoning) : 0;
          rec.outputTokens.tokenizer = content + reasoning;
          if (reasoning > 0) rec.outputTokens.reasoning = reasoning;
        } catch {
          failed++;
        }
      });
      if (failed > 0) this.note(`The output of ${failed} requests could not be re-tokenized; their OSL is the server's usage count.`);
    }
    // The final requests.jsonl, with re-tokenized counts: replaces the one written as requests ended.
    writeFileAtomic(path.join(this.dir, 'requests.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
    fs.rmSync(requestsFile, { force: true });

    const metrics = computeRunMetrics(records, { streaming: w.streaming, slos: w.slos });
    const first = profilingFirstSendNs ?? 0;
    writeProfileExport(path.join(artifactDir, PROFILE_EXPORT), paFile, w, [this.originEpochNs + BigInt(first), this.originEpochNs + BigInt(profilingLastNs || first)]);
    fs.rmSync(paFile, { force: true });
    writeGenaiPerfSummaries(artifactDir, metrics, w, telemetryStats(sampler.gpuSamples, (v) => summarize(v)), { url: this.params.endpoint, artifactDirectory: `artifacts/${runDirName}` });
    const rel = (f: string) => `artifacts/${runDirName}/${f}`;
    return {
      records,
      artifacts: [
        { path: rel(PROFILE_EXPORT), kind: 'perf-analyzer-profile-export' },
        { path: rel(GENAI_PERF_JSON), kind: 'genai-perf-json' },
        { path: rel(GENAI_PERF_CSV), kind: 'genai-perf-csv' },
      ],
    };
  }

  // ------------------------------------------------------------------ genai-perf / aiperf

  private async runExternal(tool: ExternalTool, requestsFile: string): Promise<{ records: RequestRecord[]; artifacts: RunArtifact[] }> {
    const w = this.w;
    const exe = this.params.toolPath ?? (await (this.deps.findTool ?? findTool)(tool));
    if (!exe) throw toolMissingError(tool);
    const artifactRoot = path.join(this.dir, 'artifacts');
    fs.mkdirSync(artifactRoot, { recursive: true });
    const argv = [...toolArgv(tool, w, this.params.endpoint, artifactRoot), ...this.params.toolArgs];
    for (const n of toolLimitations(tool, w)) this.note(n);
    const cpus = this.params.clientCpus;
    this.runJson.tool = { name: tool, version: null, argv: [exe, ...argv], ...(cpus !== undefined ? { cpus } : {}) };
    this.deps.store.writeRunJson(this.id, this.runJson);
    const command = cpus === undefined ? { file: exe, argv } : await pinnedCommand(cpus, exe, argv);
    this.setPhase(w.warmupRequestCount > 0 ? 'warmup' : 'profiling');
    this.profilingStartMs = this.nowMs();
    const startEpochMs = performance.timeOrigin + performance.now();
    const tail: string[] = [];
    const proc = startTool(command.file, command.argv, {
      cwd: this.dir,
      logFile: path.join(this.dir, 'tool.log'),
      onLine: (line) => {
        const p = parseToolProgress(line);
        if (!p) return;
        tail.push(p.message);
        if (tail.length > 20) tail.shift();
        this.state.toolMessage = p.message;
        if (p.done !== null && p.total !== null) {
          if (p.warmup) this.state.warmupDone = p.done;
          else {
            if (this.state.phase === 'warmup') this.state.phase = 'profiling';
            this.state.done = p.done;
            this.state.total = p.total;
          }
        }
        this.emit();
      },
    });
    const onAbort = () => proc.stop();
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    const exit = await proc.exited;
    this.abort.signal.removeEventListener('abort', onAbort);
    const endEpochMs = performance.timeOrigin + performance.now();
    if (!this.state.cancelled && exit.code !== 0) {
      throw new UserFacingError('tool-failed', `${tool} exited with ${exit.code === null ? `signal ${exit.signal ?? 'unknown'}` : `code ${exit.code}`}. Last output:\n${tail.slice(-8).join('\n')}\n(full output in the run's tool.log)`);
    }
    // Import what the tool wrote with the same readers `handoff import` uses.
    // AIPerf also writes per-phase copies (phases/warmup, phases/profiling) of its summaries; the
    // run's own files are the top-level ones.
    const files = listFiles(artifactRoot).filter((f) => /\.(json|jsonl|csv)$/i.test(f) && !/(^|\/)phases\//.test(f) && !path.basename(f).startsWith('.') && fs.statSync(path.join(artifactRoot, f)).size < 1024 ** 3);
    const artifacts: RunArtifact[] = files.map((f) => ({ path: `artifacts/${f}`, kind: null }));
    if (files.length === 0) {
      if (this.state.cancelled) return { records: [], artifacts };
      throw new UserFacingError('tool-no-artifacts', `${tool} finished but wrote no result files under ${artifactRoot}; see tool.log.`);
    }
    let imported;
    try {
      imported = importArtifacts(files.map((f) => ({ name: f, text: fs.readFileSync(path.join(artifactRoot, f), 'utf8') })));
    } catch (err) {
      if (this.state.cancelled) return { records: [], artifacts };
      throw err;
    }
    for (const a of artifacts) {
      const i = imported.files.findIndex((x) => `artifacts/${x.name}` === a.path);
      if (i >= 0) a.kind = imported.files[i]!.kind;
    }
    for (const n of imported.notes) this.note(n);
    if (imported.disagreements.length > 0) {
      this.note(`${imported.disagreements.length} of ${imported.comparedCount} figures ${tool} reported differ from those recomputed from its per-request records (see summary.json).`);
    }
    this.runJson.tool.version = imported.toolVersion ?? (await toolVersion(exe));
    const origin = Number(this.originEpochNs);
    const shift = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : v - origin);
    const records: RequestRecord[] = (imported.requests ?? []).map((r) => ({
      ...r,
      sendNs: r.sendNs - origin,
      ...(r.chunkNs ? { chunkNs: r.chunkNs.map((c) => c - origin) } : {}),
      firstTokenNs: shift(r.firstTokenNs),
      lastTokenNs: shift(r.lastTokenNs),
      ...(r.firstContentNs !== undefined ? { firstContentNs: shift(r.firstContentNs) } : {}),
    }));
    const profiling = records.filter((r) => r.phase !== 'warmup');
    this.state.done = profiling.length;
    this.state.total = this.state.total ?? profiling.length;
    this.state.errors = profiling.filter((r) => r.error !== null).length;
    this.state.warmupDone = records.length - profiling.length;
    writeFileAtomic(path.join(this.dir, 'requests.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
    fs.rmSync(requestsFile, { force: true });
    this.externalWindow = { fromEpochMs: startEpochMs, toEpochMs: endEpochMs };
    this.externalMetrics = imported.recomputed;
    return { records, artifacts };
  }

  private externalWindow: { fromEpochMs: number; toEpochMs: number } | null = null;
  private externalMetrics: BenchSummary['metrics'] = null;

  // ------------------------------------------------------------------ traces, KV latency, summary

  private async finishRecord(records: RequestRecord[], sampler: RunSampler, summary: BenchSummary): Promise<BenchSummary> {
    const w = this.w;
    summary.metrics = this.params.tool === 'builtin' ? (records.length ? computeRunMetrics(records, { streaming: w.streaming, slos: w.slos }) : null) : this.externalMetrics;

    if (this.params.traceFiles.length > 0) {
      const ids = new Set(records.map((r) => r.id).filter((x): x is string => typeof x === 'string'));
      const useIds = this.params.tool === 'builtin' || ids.size > 0;
      const window = this.externalWindow ?? { fromEpochMs: this.originEpochMs, toEpochMs: performance.timeOrigin + performance.now() };
      const out = new JsonlAppender(path.join(this.dir, `traces.jsonl${PARTIAL_SUFFIX}`), 1_000);
      const routerTtft = new Map<string, number>();
      const res = await collectTraces(this.params.traceFiles, { ids: useIds ? ids : null, ...window }, this.originEpochMs, (t) => {
        out.append(JSON.stringify(t));
        if (t.firstTokenNs !== null && t.firstTokenNs !== undefined) routerTtft.set(t.requestId, (t.firstTokenNs - t.arrivalNs) / 1e6);
      });
      out.close();
      if (res.unreadable.length) this.note(`Router trace file(s) not readable: ${res.unreadable.join(', ')}.`);
      if (res.badLines) this.note(`${res.badLines} router trace lines were not valid trace records and were skipped.`);
      if (useIds && res.matched < ids.size) this.note(`The router traced ${res.matched} of the run's ${ids.size} requests (it flushes its trace file every few ms; requests that never reached it have none).`);
      if (w.streaming) {
        const client: number[] = [];
        const router: number[] = [];
        for (const r of records) {
          if (r.phase === 'warmup' || r.error !== null || r.firstTokenNs === null || !r.id) continue;
          const rt = routerTtft.get(r.id);
          if (rt === undefined) continue;
          client.push((r.firstTokenNs - r.sendNs) / 1e6);
          router.push(rt);
        }
        const c = summarize(client);
        const ro = summarize(router);
        if (c && ro) summary.traceTtft = { matched: client.length, clientP50Ms: c.p50, routerP50Ms: ro.p50, diffP50Ms: c.p50 - ro.p50 };
      }
    }

    const bytesPerBlock = this.bytesPerBlock();
    if (sampler.nixl.size > 0) {
      if (bytesPerBlock === null) this.note('NIXL counters were sampled, but the KV block size is unknown (pass kvBlock), so no per-block transfer latency was computed.');
      else {
        for (const [source, scrapes] of sampler.nixl) {
          const s = blockLatencySummary(scrapes, bytesPerBlock);
          if (s.intervals.length === 0 && !s.run) continue;
          summary.kvTransfer.push({ source, bytesPerBlock, run: s.run ?? null, intervals: s.intervals, stats: s.stats });
        }
      }
    }
    return summary;
  }

  private bytesPerBlockMemo: number | null | undefined;
  /** Asked by the telemetry collector and the summary; worked out (and any note written) once. */
  private bytesPerBlock(): number | null {
    if (this.bytesPerBlockMemo === undefined) this.bytesPerBlockMemo = this.findBytesPerBlock();
    return this.bytesPerBlockMemo;
  }

  private findBytesPerBlock(): number | null {
    const k = this.params.kvBlock;
    if (!k) return null;
    if ('bytesPerBlock' in k) return k.bytesPerBlock;
    let m = findBuiltinModel(k.model) ?? null;
    if (!m) {
      try {
        m = readLocalModelConfig(k.model);
      } catch (err) {
        this.note(`The config.json of "${k.model}" could not be read (${err instanceof Error ? err.message : String(err)}), so no per-block KV latency was computed.`);
        return null;
      }
    }
    if (!m) {
      this.note(`The model "${k.model}" is neither in the built-in model table nor has a config.json on this host (model directory or Hugging Face cache); pass kvBlock.bytesPerBlock for per-block KV latency.`);
      return null;
    }
    return kvBytesPerBlock(m, k.tp, k.blockSize);
  }
}

function push(a: number[], v: number): void {
  a.push(v);
  if (a.length > RECENT) a.splice(0, a.length - RECENT);
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

async function toolVersion(exe: string): Promise<string | null> {
  const { runTool } = await import('../host/run-tool');
  const r = await runTool(exe, ['--version'], { timeoutMs: 30_000 });
  const v = (r.stdout || r.stderr).trim().split('\n').pop()?.trim();
  return r.code === 0 && v ? v.slice(0, 100) : null;
}
