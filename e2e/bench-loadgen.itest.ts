/**
 * The built-in load generator against a mocker P/D deployment run as real processes (prefill and
 * decode workers with the simulated NIXL handoff, the router writing its trace file), each run
 * going through the executor the agent daemon uses and checked from the files it leaves. Separate
 * processes matter: with the servers in the test's own event loop, their work would delay the
 * client's timestamps and the TTFT comparison with the router would measure that instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importArtifacts } from '../common/artifacts';
import { BenchStartParams, resolveWorkload, type BenchProgress, type BenchStartInput, type BenchSummary } from '../common/bench-rpc';
import { summarize } from '../common/metrics/stats';
import { MetricSample, RequestRecord, RouterTrace, RunJson } from '../common/run-record';
import { spawnMocker, spawnRouter, type ChildHandle } from '../agents/router/test-processes';
import { BenchRun } from '../agents/bench/run-executor';
import { RunStore } from '../agents/bench/run-store';
import { kvBytesPerBlock, findBuiltinModel } from '../common/model-config';
import type { AgentLogger } from '../agents/rpc/agent-logger';

const MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';
const FAKE_SMI = path.resolve('e2e/harness/fake-nvidia-smi.sh');
const quiet = (): void => undefined;
const kvConfig = (role: string): string => JSON.stringify({ kv_connector: 'NixlConnector', kv_role: role });

const silentLog: AgentLogger = {
  debug: quiet,
  info: quiet,
  warn: quiet,
  error: quiet,
  child: () => silentLog,
};

let tmp: string;
let store: RunStore;
let prefill: ChildHandle;
let decode: ChildHandle;
let router: ChildHandle;
let traceFile: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-itest-'));
  store = new RunStore(path.join(tmp, 'runs'));
  traceFile = path.join(tmp, 'router-traces.jsonl');
  const env = { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: '0' };
  const common = ['--max-model-len', '8192', '--block-size', '16'];
  [prefill, decode] = await Promise.all([
    spawnMocker(MODEL, [...common, '--kv-transfer-config', kvConfig('kv_producer')], 60_000, env),
    spawnMocker(MODEL, [...common, '--kv-transfer-config', kvConfig('kv_consumer')], 60_000, env),
  ]);
  router = await spawnRouter(['--port', '0', '--mode', 'disaggregated', '--prefill', prefill.url, '--decode', decode.url, '--trace-file', traceFile, '--model', MODEL, '--log-level', 'error'], 60_000);
}, 120_000);

afterAll(async () => {
  await Promise.all([router?.stop(), prefill?.stop(), decode?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

let runCounter = 0;

async function runBench(input: Partial<BenchStartInput> & { workload: BenchStartInput['workload'] }, during?: (run: BenchRun, p: BenchProgress) => void): Promise<{ dir: string; run: BenchRun; progress: BenchProgress[] }> {
  const params = BenchStartParams.parse({
    runId: `itest-${++runCounter}`,
    endpoint: router.url,
    tokenizeUrl: decode.url,
    simulated: true,
    gpuTelemetry: false,
    ...input,
  });
  const progress: BenchProgress[] = [];
  let run: BenchRun | null = null;
  run = new BenchRun(params, resolveWorkload(params.workload), {
    store,
    log: silentLog,
    nvidiaSmi: FAKE_SMI,
    progressIntervalMs: 50,
    emit: (p) => {
      progress.push(p);
      if (run) during?.(run, p);
    },
  });
  run.start();
  await run.done;
  return { dir: run.dir, run, progress };
}

function jsonl<T>(file: string, parse: (v: unknown) => T): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => parse(JSON.parse(l) as unknown));
}

function readDir(dir: string): { name: string; text: string }[] {
  return fs.readdirSync(dir).map((f) => ({ name: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

describe('built-in load generator against a mocker P/D deployment behind the router', () => {
  it('runs the seed preset to a complete record whose genai-perf-layout artifacts re-import to the same numbers, and whose TTFT agrees with the router trace', async () => {
    const model = findBuiltinModel(MODEL)!;
    const { dir, progress } = await runBench({
      workload: { preset: 'seed', model: MODEL },
      traceFiles: [traceFile],
      metricsUrls: [
        { source: 'router', url: `${router.url}/metrics` },
        { source: 'prefill-0', url: `${prefill.url}/metrics` },
        { source: 'decode-0', url: `${decode.url}/metrics` },
      ],
      gpuTelemetry: true,
      sampleIntervalMs: 250,
      kvBlock: { bytesPerBlock: kvBytesPerBlock(model, 1, 16) },
    });
    const run = RunJson.parse(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')));
    expect(run.status).toBe('complete');
    expect(run.simulated).toBe(true);
    expect(run.workload).toMatchObject({ endpointType: 'chat', streaming: true, concurrency: 10, requestCount: 40, warmupRequestCount: 10, islMean: 3000, islStddev: 0, oslMean: 150, randomSeed: 123, tokenizer: MODEL });
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['preparing', 'warmup', 'profiling', 'collecting', 'done']));

    const records = jsonl(path.join(dir, 'requests.jsonl'), (v) => RequestRecord.parse(v));
    expect(records.filter((r) => r.phase === 'warmup')).toHaveLength(10);
    const profiling = records.filter((r) => r.phase === 'profiling');
    expect(profiling).toHaveLength(40);
    for (const r of profiling) {
      expect(r.error).toBeNull();
      // Exact input length from the deployment's /tokenize; exact output from min_tokens = max_tokens = 150.
      expect(r.inputTokens).toBe(3000);
      expect(r.outputTokens.usage).toBe(150);
      expect(r.outputTokens.tokenizer).toBe(150);
      expect(r.chunkNs!.length).toBeGreaterThan(1);
    }

    // The genai-perf layout, read back by the importer, gives the numbers of the run itself.
    const art = path.join(dir, 'artifacts', 'deepseek-ai_DeepSeek-R1-Distill-Llama-8B-openai-chat-concurrency10');
    expect(fs.readdirSync(art).sort()).toEqual(['profile_export.json', 'profile_export_genai_perf.csv', 'profile_export_genai_perf.json']);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as BenchSummary;
    const imported = importArtifacts(readDir(art));
    expect(imported.tool).toBe('genai-perf');
    // The importer can only take ISL from the server's usage (the prompt plus the chat template);
    // GenAI-Perf's ISL is the bare prompt, as ours. Every other figure must agree, to the 256 ns
    // that epoch nanoseconds keep when the importer reads them as JSON numbers (run-record.ts); the
    // same rounding moves tokens/s per user (1 / ITL) by a few parts per million.
    const rounding = (d: { metric: string; reported: number; recomputed: number }) =>
      (d.metric.endsWith('Ms') && Math.abs(d.reported - d.recomputed) < 1e-3) || (d.metric === 'tpsPerUser' && Math.abs(d.reported - d.recomputed) <= 1e-5 * Math.abs(d.reported));
    const real = imported.disagreements.filter((d) => d.metric !== 'isl' && d.metric !== 'totalIsl' && !rounding(d));
    expect(real).toEqual([]);
    const templateTokens = imported.recomputed!.distributions.isl!.p50 - 3000;
    expect(imported.recomputed!.distributions.isl!.std).toBe(0);
    expect(templateTokens).toBeGreaterThanOrEqual(0);
    expect(templateTokens).toBeLessThan(40);
    expect(imported.comparedCount).toBeGreaterThan(50);
    expect(imported.workload).toMatchObject({ concurrency: 10, requestCount: 40, warmupRequestCount: 10, islMean: 3000, oslMean: 150, randomSeed: 123, streaming: true, endpointType: 'chat' });
    for (const k of ['ttftMs', 'itlMs', 'requestLatencyMs', 'ttstMs'] as const) {
      const mine = summary.metrics!.distributions[k]!;
      const back = imported.recomputed!.distributions[k]!;
      expect(back.p50).toBeCloseTo(mine.p50, 3);
      expect(back.avg).toBeCloseTo(mine.avg, 3);
    }
    expect(imported.recomputed!.scalars.requestThroughputPerS).toBeCloseTo(summary.metrics!.scalars.requestThroughputPerS!, 4);
    expect(imported.reported!.scalars.outputTokenThroughputPerS).toBeCloseTo(summary.metrics!.scalars.outputTokenThroughputPerS!, 6);
    const csv = importArtifacts(readDir(art).filter((f) => f.name.endsWith('.csv')));
    expect(csv.reported!.distributions.ttftMs!.p50).toBeCloseTo(summary.metrics!.distributions.ttftMs!.p50, 2);

    // Router traces of exactly this run's requests, and TTFT within 1 ms of the router's at p50.
    const traces = jsonl(path.join(dir, 'traces.jsonl'), (v) => RouterTrace.parse(v));
    expect(traces).toHaveLength(50);
    expect(new Set(traces.map((t) => t.requestId))).toEqual(new Set(records.map((r) => r.id)));
    expect(traces.every((t) => t.remotePrefill && (t.blocks ?? 0) > 0)).toBe(true);
    expect(summary.traceTtft!.matched).toBe(40);
    expect(Number.isFinite(summary.traceTtft!.diffP50Ms)).toBe(true);

    // Samples: every source scraped, GPU telemetry from nvidia-smi, per-block KV latency from NIXL deltas.
    const samples = jsonl(path.join(dir, 'samples.jsonl'), (v) => MetricSample.parse(v));
    expect(new Set(samples.filter((s) => s.kind === 'prometheus').map((s) => (s.kind === 'prometheus' ? s.source : '')))).toEqual(new Set(['router', 'prefill-0', 'decode-0']));
    expect(samples.some((s) => s.kind === 'gpu' && s.gpus.length > 0)).toBe(true);
    const kv = summary.kvTransfer.find((k) => k.source === 'decode-0');
    expect(kv?.run?.blocks).toBeGreaterThan(0);
    expect(kv!.run!.perBlockS).toBeGreaterThan(0);
    expect(kv!.intervals.length).toBeGreaterThan(0);
  }, 180_000);

  it('measures TTFT within 1 ms of the router trace at p50 when the router is not saturated', async () => {
    // The seed's prompt length, one request at a time: at concurrency 10 on a small machine,
    // requests queue in the router's socket before its handler stamps their arrival, a wait the
    // client sees and the trace cannot. The difference is pure delivery latency on loopback, so a
    // machine busy with other work shows it as scheduling delay; many requests steady the p50.
    const { dir } = await runBench({ workload: { preset: 'seed', model: MODEL, concurrency: 1, oslMean: 16, minTokens: 16, maxTokens: 16, requestCount: 40, warmupRequestCount: 2 }, traceFiles: [traceFile] });
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as BenchSummary;
    expect(summary.traceTtft!.matched).toBe(40);
    const load = os.loadavg()[0]!;
    const cores = os.cpus().length;
    console.log(`[bench-loadgen] TTFT p50: generator ${summary.traceTtft!.clientP50Ms.toFixed(2)} ms, router ${summary.traceTtft!.routerP50Ms.toFixed(2)} ms, difference ${summary.traceTtft!.diffP50Ms.toFixed(3)} ms (load average ${load.toFixed(1)} on ${cores} cores)`);
    // Above one runnable process per core, the three processes wait for a CPU between the stamps.
    if (load <= cores) expect(Math.abs(summary.traceTtft!.diffP50Ms)).toBeLessThan(1);
    else expect(Math.abs(summary.traceTtft!.diffP50Ms)).toBeLessThan(50);
  }, 120_000);

  it('builds prompts of exactly the sampled input lengths with the deployment\'s /tokenize, and sends non-streaming completions', async () => {
    const { dir } = await runBench({
      workload: { model: MODEL, endpointType: 'completions', streaming: false, islMean: 120, islStddev: 40, oslMean: 8, exactOutput: true, concurrency: 4, requestCount: 24, randomSeed: 7 },
    });
    const records = jsonl(path.join(dir, 'requests.jsonl'), (v) => RequestRecord.parse(v));
    const art = path.join(dir, 'artifacts', 'deepseek-ai_DeepSeek-R1-Distill-Llama-8B-openai-completions-concurrency4');
    const pa = JSON.parse(fs.readFileSync(path.join(art, 'profile_export.json'), 'utf8')) as { experiments: [{ requests: Array<{ request_inputs: { payload: string } }> }] };
    const prompts = pa.experiments[0].requests.map((r) => (JSON.parse(r.request_inputs.payload) as { prompt: string; max_tokens: number; min_tokens: number }));
    expect(prompts.every((p) => p.max_tokens === p.min_tokens)).toBe(true);
    // Count each sent prompt independently with the server's tokenizer.
    const counts = await Promise.all(prompts.map(async (p) => {
      const r = await fetch(`${decode.url}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: p.prompt, add_special_tokens: false }) });
      return ((await r.json()) as { count: number }).count;
    }));
    const isl = records.map((r) => r.inputTokens);
    expect([...counts].sort()).toEqual([...isl].sort());
    expect(new Set(isl).size).toBeGreaterThan(5);
    expect(Math.abs(summarize(isl as number[])!.avg - 120)).toBeLessThan(25);
    // Non-streaming: one response per request; no TTFT/ITL rows in the CSV, as GenAI-Perf.
    expect(records.every((r) => r.chunkNs!.length === 1 && r.firstTokenNs === r.lastTokenNs && r.outputTokens.usage === 8)).toBe(true);
    const csv = fs.readFileSync(path.join(art, 'profile_export_genai_perf.csv'), 'utf8');
    expect(csv).not.toContain('Time To First Token');
    expect(csv).toContain('Request Latency (ms)');
    expect(csv.split('\r\n')[0]).toBe('Metric,avg,min,max,p99,p95,p90,p75,p50,p25,p10,p5,p1');
  }, 120_000);

  it('spaces Poisson arrivals with exponential gaps and constant arrivals evenly (statistical shape, not timing)', async () => {
    const sendGaps = async (arrival: 'poisson' | 'constant'): Promise<number[]> => {
      const { dir } = await runBench({ workload: { model: MODEL, islMean: 16, oslMean: 2, exactOutput: true, requestRate: 40, arrival, requestCount: 120, randomSeed: 11, numDatasetEntries: 4 } });
      const sends = jsonl(path.join(dir, 'requests.jsonl'), (v) => RequestRecord.parse(v)).map((r) => r.sendNs).sort((a, b) => a - b);
      return sends.slice(1).map((t, i) => (t - sends[i]!) / 1e9);
    };
    // The interquartile range over the median: exponential gaps give (ln 4 − ln 4/3) ÷ ln 2 ≈ 1.58,
    // even spacing close to 0. Unlike the coefficient of variation it ignores the few gaps a busy
    // machine stretches or squeezes (a CI run beside real vLLM once pushed the CV of constant gaps to 0.99).
    const spread = (g: number[]) => {
      const s = summarize(g)!;
      return (s.p75 - s.p25) / s.p50;
    };
    const poisson = await sendGaps('poisson');
    const constant = await sendGaps('constant');
    console.log(`[bench-loadgen] gap spread (IQR/median): poisson ${spread(poisson).toFixed(2)}, constant ${spread(constant).toFixed(2)} (load average ${os.loadavg()[0]!.toFixed(1)})`);
    expect(spread(poisson)).toBeGreaterThan(0.9);
    expect(spread(constant)).toBeLessThan(0.3);
  }, 120_000);

  it('stops when cancelled mid-run and keeps a partial record of what finished', async () => {
    let cancelled = false;
    const { dir, run } = await runBench({ workload: { model: MODEL, islMean: 64, oslMean: 400, exactOutput: true, concurrency: 2, requestCount: 40 } }, (r, p) => {
      if (!cancelled && p.phase === 'profiling' && p.done >= 2) {
        cancelled = true;
        r.cancel();
      }
    });
    expect(cancelled).toBe(true);
    const runJson = RunJson.parse(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')));
    expect(runJson.status).toBe('partial');
    expect(runJson.notes.join(' ')).toMatch(/Cancelled by the user/);
    const records = jsonl(path.join(dir, 'requests.jsonl'), (v) => RequestRecord.parse(v));
    expect(records.length).toBeLessThan(40);
    expect(records.filter((r) => r.error === null).length).toBeGreaterThanOrEqual(2);
    expect(run.status()).toMatchObject({ status: 'partial', cancelled: true, phase: 'done' });
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.partial'))).toBe(false);
  }, 120_000);
});
