import fs from 'node:fs/promises';
import path from 'node:path';
import { computeRunMetrics } from '../common/metrics';
import { isTaskFinished, type Task } from '../common/task';
import type { Controller } from '../electron/control/controller';
import type { NixlTransferRecord } from '../common/kv/nixl-transfer';
import type { MetricSample, RequestRecord, RunJson } from '../common/run-record';
import type { RunTraceLine } from '../common/waterfall';

/**
 * Run records written straight into a run store ($HANDOFF_HOME/runs/<id>/) for report tests and
 * the report benchmark: deterministic requests with every chunk time, sampled queue / KV-cache /
 * GPU series, per-block KV-transfer figures, and optionally secrets planted where real runs could
 * carry them (tool argv, spec env, artifacts, error messages).
 */

export const PLANTED_SECRETS = {
  apiKey: 'sk-plantedAbCdEf0123456789xyzSECRET',
  hfToken: 'hf_PlantedTokenAbCdEfGhIjKlMnOp123456',
  bearer: 'PlantedBearerValue9f8e7d6c5b4a',
  argvToken: 'plantedArgvToken_77aa88bb99cc',
  serviceToken: 'plantedServiceTokenValue_4242',
  urlKey: 'plantedUrlKey_31337abc',
} as const;

export interface FixtureRunOptions {
  id: string;
  name?: string;
  group?: string | null;
  requests: number;
  concurrency?: number;
  requestRate?: number;
  mode?: 'aggregated' | 'disaggregated';
  gpuCount?: number;
  simulated?: boolean;
  /** Output tokens per request (one chunk per token). */
  osl?: number;
  isl?: number;
  /** Scales every latency: a slower deployment. */
  slowdown?: number;
  errors?: number;
  plantSecrets?: boolean;
  seed?: number;
  tool?: RunJson['tool'];
  /** Router traces (traces.jsonl) and, for disaggregated runs, NIXL transfers (transfers.jsonl). */
  kvInsight?: boolean;
}

/** Bytes of one KV block per decode rank in the fixture (as summary.json's kvTransfer says). */
export const FIXTURE_BYTES_PER_BLOCK = 1048576;

/**
 * The router's trace of each answered request, and one NIXL read per remotely prefilled request
 * on decode-0 (inside its prefill-done → first-token window, so the waterfall matches it). Every
 * fifth request is prefilled locally (short prompt): no transfer.
 */
export function fixtureTracesAndTransfers(records: readonly RequestRecord[], mode: 'aggregated' | 'disaggregated'): { traces: RunTraceLine[]; transfers: NixlTransferRecord[] } {
  const traces: RunTraceLine[] = [];
  const transfers: NixlTransferRecord[] = [];
  records.forEach((r, i) => {
    if (!r.id || r.firstTokenNs === null || r.lastTokenNs === null) return;
    const arrivalNs = r.sendNs + 300_000;
    const firstAtRouter = r.firstTokenNs - 200_000;
    const remote = mode === 'disaggregated' && i % 5 !== 0;
    const ttftAtRouter = firstAtRouter - arrivalNs;
    const prefillSentNs = arrivalNs + 150_000;
    const prefillDoneNs = remote ? prefillSentNs + Math.round(ttftAtRouter * 0.6) : null;
    const decodeSentNs = remote ? prefillDoneNs! + 100_000 : prefillSentNs;
    const blocks = Math.ceil((r.inputTokens ?? 512) / 16);
    traces.push({
      requestId: r.id,
      arrivalNs,
      remotePrefill: remote,
      prefillReason: mode === 'aggregated' ? 'aggregated' : remote ? 'disaggregated' : 'short-prompt',
      prefillWorker: remote ? 'prefill-0' : null,
      decodeWorker: mode === 'disaggregated' ? 'decode-0' : 'worker-0',
      prefillSentNs: remote ? prefillSentNs : null,
      prefillDoneNs,
      decodeSentNs,
      firstTokenNs: firstAtRouter,
      lastTokenNs: r.lastTokenNs - 200_000,
      blocks: remote ? blocks : null,
      promptTokens: r.inputTokens,
      outputTokens: r.outputTokens.usage,
      error: null,
    });
    if (!remote) return;
    const durationUs = blocks * (4 + (i % 7) * 0.25);
    const atMs = (decodeSentNs + 200_000) / 1e6 + durationUs / 1000;
    transfers.push({ worker: 'decode-0', agent: 'decode-0-rank0', atMs, atEarliestMs: atMs - 0.2, durationUs, postUs: null, bytes: blocks * FIXTURE_BYTES_PER_BLOCK, descriptors: null, blocks, perBlockUs: durationUs / blocks, direction: 'read' });
  });
  return { traces, transfers };
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 1_000_000) / 1_000_000;
  };
}

export function fixtureSpec(mode: 'aggregated' | 'disaggregated', secrets: boolean): Record<string, unknown> {
  return {
    apiVersion: 'handoff/v1',
    name: `mocker-${mode}`,
    model: { path: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B' },
    engine: 'mocker',
    mode,
    workers:
      mode === 'disaggregated'
        ? [
            { name: 'prefill', role: 'prefill', host: 'this-computer', tp: 1, gpus: [0] },
            { name: 'decode', role: 'decode', host: 'this-computer', tp: 2, gpus: [1, 2] },
          ]
        : [{ name: 'worker', role: 'both', host: 'this-computer', tp: 1, gpus: [0] }],
    router: { port: 8181 },
    env: secrets ? { HF_TOKEN: PLANTED_SECRETS.hfToken, MY_SERVICE_TOKEN: PLANTED_SECRETS.serviceToken, LOG_LEVEL: 'info' } : { LOG_LEVEL: 'info' },
  };
}

/** Builds the records of one run (times in ns since the run's origin). */
export function fixtureRecords(o: FixtureRunOptions): RequestRecord[] {
  const r = rng(o.seed ?? 7);
  const osl = o.osl ?? 32;
  const isl = o.isl ?? 512;
  const conc = o.concurrency ?? 4;
  const slow = o.slowdown ?? 1;
  const out: RequestRecord[] = [];
  const slots = new Array<number>(conc).fill(0);
  for (let i = 0; i < o.requests; i++) {
    const slot = i % conc;
    const sendNs = Math.round(slots[slot]! + 1e6 * r());
    const ttftNs = Math.round((40 + 30 * r() + 5 * conc) * 1e6 * slow);
    const itlNs = (8 + 2 * r() + 0.5 * conc) * 1e6 * slow;
    const failed = i < (o.errors ?? 0);
    if (failed) {
      out.push({
        id: `req-${i}`,
        sendNs,
        chunkNs: [],
        firstTokenNs: null,
        lastTokenNs: null,
        inputTokens: isl,
        outputTokens: { usage: null, chunks: 0 },
        error: { code: 500, type: 'server_error', message: o.plantSecrets ? `upstream refused https://api.example.com/v1?api_key=${PLANTED_SECRETS.urlKey} with Authorization: Bearer ${PLANTED_SECRETS.bearer}` : 'upstream refused the request' },
      });
      slots[slot] = sendNs + 5e6;
      continue;
    }
    const chunkNs: number[] = [];
    for (let k = 0; k < osl; k++) chunkNs.push(Math.round(sendNs + ttftNs + k * itlNs));
    out.push({
      id: `req-${i}`,
      ...(i < 2 ? { phase: 'warmup' as const } : {}),
      sendNs,
      chunkNs,
      firstTokenNs: chunkNs[0]!,
      lastTokenNs: chunkNs[chunkNs.length - 1]!,
      inputTokens: isl + (i % 3),
      outputTokens: { usage: osl, chunks: osl },
      error: null,
    });
    slots[slot] = chunkNs[chunkNs.length - 1]!;
  }
  return out;
}

function fixtureSamples(durationS: number, mode: 'aggregated' | 'disaggregated'): MetricSample[] {
  const out: MetricSample[] = [];
  const n = Math.max(3, Math.ceil(durationS));
  for (let t = 0; t <= n; t++) {
    const tMs = t * 1000;
    for (const source of mode === 'disaggregated' ? ['prefill-0', 'decode-0'] : ['worker-0']) {
      out.push({
        kind: 'prometheus',
        tMs,
        source,
        values: {
          'vllm:num_requests_running{model_name="m"}': (t % 4) + 1,
          'vllm:num_requests_waiting{model_name="m"}': t % 2,
          'vllm:kv_cache_usage_perc{model_name="m"}': 0.1 + 0.05 * (t % 5),
        },
      });
    }
    out.push({ kind: 'gpu', tMs, host: 'this-computer', gpus: [0, 1, 2].map((index) => ({ index, utilizationPct: 50 + 10 * ((t + index) % 4), memoryUsedMiB: 40000, memoryTotalMiB: 81559 })) });
  }
  return out;
}

/** Writes one run directory; returns its run.json and records. */
export async function writeFixtureRun(home: string, o: FixtureRunOptions): Promise<{ run: RunJson; records: RequestRecord[]; dir: string }> {
  const mode = o.mode ?? 'disaggregated';
  const records = fixtureRecords(o);
  const metrics = computeRunMetrics(records, { streaming: true });
  const durationS = (metrics.scalars.benchmarkDurationS ?? 1) + 1;
  const secrets = !!o.plantSecrets;
  const run: RunJson = {
    schema: 1,
    id: o.id,
    name: o.name ?? `mocker-${mode} · concurrency ${o.concurrency ?? 4}`,
    group: o.group ?? null,
    status: 'complete',
    simulated: o.simulated ?? true,
    imported: false,
    tool: o.tool ?? (secrets ? { name: 'genai-perf', version: '0.0.16', argv: ['genai-perf', 'profile', '-m', 'm', '--api-key', PLANTED_SECRETS.apiKey, '--token', PLANTED_SECRETS.argvToken, '-H', `Authorization: Bearer ${PLANTED_SECRETS.bearer}`] } : { name: 'builtin', version: '0.1.0' }),
    versions: { handoff: '0.1.0', node: 'v20.20.2', vllm: '0.32.0 (mocker)' },
    spec: fixtureSpec(mode, secrets),
    deployment: { name: `mocker-${mode}`, mode, engine: 'mocker', model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', gpuCount: o.gpuCount ?? 3 },
    hosts: [{ name: 'this-computer', hostname: 'bench-box', gpus: [0, 1, 2].map((index) => ({ index, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559 })), driverVersion: '570.86.15', cudaVersion: '12.8' }],
    timings: { createdAt: '2026-01-26T12:55:01.000Z', startedAt: '2026-01-26T12:55:02.000Z', finishedAt: '2026-01-26T12:56:02.000Z', originEpochNs: '1769432102000000000' },
    workload: {
      endpointType: 'chat',
      streaming: true,
      model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
      tokenizer: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
      concurrency: o.requestRate !== undefined ? null : (o.concurrency ?? 4),
      requestRate: o.requestRate ?? null,
      arrival: o.requestRate !== undefined ? 'constant' : null,
      requestCount: o.requests - 2,
      warmupRequestCount: 2,
      durationS: null,
      islMean: o.isl ?? 512,
      islStddev: 0,
      oslMean: o.osl ?? 32,
      oslStddev: 0,
      randomSeed: 7,
      goodput: null,
    },
    artifacts: secrets ? [{ path: 'artifacts/tool-output.json', kind: null }] : [],
    notes: ['Fixture run written by e2e/report-fixture.ts.'],
  };
  const summary = {
    schema: 1,
    runId: o.id,
    metrics,
    kvTransfer:
      mode === 'disaggregated'
        ? [
            {
              source: 'decode-0',
              bytesPerBlock: FIXTURE_BYTES_PER_BLOCK,
              run: { perBlockS: 4.1e-6 * (o.slowdown ?? 1), blocks: 4096, fromMs: 0, toMs: durationS * 1000 },
              intervals: Array.from({ length: Math.ceil(durationS) }, (_, i) => ({ perBlockS: (3.5 + (i % 3) * 0.5) * 1e-6, blocks: 100 + i, fromMs: i * 1000, toMs: (i + 1) * 1000 })),
              stats: null,
            },
          ]
        : [],
    traceTtft: null,
    notes: [],
  };
  const dir = path.join(home, 'runs', o.id);
  await fs.mkdir(path.join(dir, 'artifacts'), { recursive: true });
  await fs.writeFile(path.join(dir, 'run.json'), JSON.stringify(run, null, 2) + '\n');
  await fs.writeFile(path.join(dir, 'requests.jsonl'), records.map((x) => JSON.stringify(x)).join('\n') + '\n');
  await fs.writeFile(path.join(dir, 'samples.jsonl'), fixtureSamples(durationS, mode).map((x) => JSON.stringify(x)).join('\n') + '\n');
  const kv = o.kvInsight ? fixtureTracesAndTransfers(records, mode) : null;
  await fs.writeFile(path.join(dir, 'traces.jsonl'), kv ? kv.traces.map((x) => JSON.stringify(x)).join('\n') + '\n' : '');
  if (kv?.transfers.length) await fs.writeFile(path.join(dir, 'transfers.jsonl'), kv.transfers.map((x) => JSON.stringify(x)).join('\n') + '\n');
  await fs.writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  if (secrets) {
    await fs.writeFile(
      path.join(dir, 'artifacts', 'tool-output.json'),
      JSON.stringify({ input_config: { endpoint: { api_key: PLANTED_SECRETS.apiKey, url: `https://user:${PLANTED_SECRETS.serviceToken}@api.example.com/v1` }, input: { header: [`Authorization: Bearer ${PLANTED_SECRETS.bearer}`] } }, cli_command: `genai-perf profile --api-key ${PLANTED_SECRETS.apiKey} HF_TOKEN=${PLANTED_SECRETS.hfToken}` }, null, 2),
    );
    await fs.writeFile(path.join(dir, 'artifacts', 'tool.log'), `starting with HF_TOKEN=${PLANTED_SECRETS.hfToken}\ncurl -H "Authorization: Bearer ${PLANTED_SECRETS.bearer}" http://127.0.0.1:8181/v1/models\nMY_SERVICE_TOKEN=${PLANTED_SECRETS.serviceToken}\n`);
  }
  return { run, records, dir };
}

/** Starts reports.export on a controller and resolves with the finished task (succeeded or not). */
export async function finishReportExport(controller: Controller, params: Record<string, unknown>): Promise<Task> {
  const task = controller.reports.export(params);
  return new Promise<Task>((resolve) => {
    const on = (t: Task) => {
      if (t.id !== task.id || !isTaskFinished(t)) return;
      controller.tasks.off('updated', on);
      resolve(t);
    };
    controller.tasks.on('updated', on);
    on(controller.tasks.get(task.id));
  });
}
