/**
 * `startMocker(options)`: one simulated vLLM engine in this process, for the CLI and for in-process
 * tests. Wires the engine, the simulated NIXL connector, the metrics and the HTTP server.
 */
import type { AddressInfo } from 'node:net';
import { UserFacingError } from '../../common/errors';
import { HANDOFF_VERSION } from '../../common/version';
import { Engine, type EngineObserver, type EngineRequest, type FinishReason } from './engine';
import { LatencyModel } from './latency-model';
import { MockerMetrics } from './metrics';
import { createLog, type MockerLog } from './mocker-log';
import { resolveMockerConfig, type MockerConfig } from './mocker-options';
import { createMockerServer } from './mocker-server';
import { NixlSim } from './nixl-sim';
import { NixlTelemetrySink } from './nixl-telemetry-sink';
import { randomUUID } from 'node:crypto';
import { hash32, mulberry32, seededHex } from './seeded-random';

export interface StartMockerOptions {
  /** `vllm serve` arguments (model first), e.g. ['meta-llama/Llama-3.1-8B-Instruct', '--port', '0']. */
  argv: string[];
  /** Environment read for VLLM_* variables; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Receives every log line; defaults to stdout. */
  logLine?: (line: string) => void;
}

export interface RunningMocker {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8100 */
  url: string;
  port: number;
  /** Bound side-channel port when a NIXL connector is configured. */
  sideChannelPort: number | null;
  engineId: string | null;
  config: MockerConfig;
  /** Requests whose blocks a producer holds for a consumer. */
  pinnedRequests(): number;
  close(): Promise<void>;
}

export const SIMULATION_BANNER =
  'SIMULATED ENGINE: this is the Handoff mocker, not vLLM. No GPU and no model weights are used; output is deterministic filler text and every latency comes from a latency model.';

export async function startMocker(opts: StartMockerOptions): Promise<RunningMocker> {
  const env = opts.env ?? process.env;
  const write = opts.logLine ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = createLog(write);
  const cfg = resolveMockerConfig(opts.argv, env);
  for (const w of cfg.warnings) log.warn(w);
  log.info(SIMULATION_BANNER);
  log.info(
    `vLLM API server version ${cfg.vllmVersion} (simulated by handoff mocker ${HANDOFF_VERSION}); model ${cfg.modelPath} from ${cfg.modelSource}; ` +
      `simulated ${cfg.gpu.name} × TP ${cfg.tp}, gpu_memory_utilization ${cfg.gpuMemoryUtilization}`,
  );
  log.info(`# GPU blocks: ${cfg.numBlocks}, block size ${cfg.blockSize}, ${(cfg.kvBytesPerBlock / 2 ** 20).toFixed(3)} MiB per block per worker`);
  log.info(`Maximum concurrency for ${cfg.maxModelLen} tokens per request: ${((cfg.numBlocks * cfg.blockSize) / cfg.maxModelLen).toFixed(2)}x`);

  const rng = mulberry32(hash32(cfg.seed, 0x0dd1));
  const latency = new LatencyModel(cfg.profile, cfg.model, cfg.tp, cfg.blockSize);
  const startNs = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - startNs) / 1e9;
  const engine = new Engine(
    {
      numBlocks: cfg.numBlocks,
      blockSize: cfg.blockSize,
      maxNumSeqs: cfg.maxNumSeqs,
      maxNumBatchedTokens: cfg.maxNumBatchedTokens,
      prefixCaching: cfg.prefixCaching,
      seed: cfg.seed,
      latency,
    },
    now,
  );

  // A fresh UUID like vLLM's default: engine ids must differ between instances even with one seed.
  const engineId = cfg.connector ? (cfg.connector.engineId ?? randomUUID()) : null;
  const metrics = new MockerMetrics({
    modelName: cfg.servedModelNames[0]!,
    maxModelLen: cfg.maxModelLen,
    version: HANDOFF_VERSION,
    vllmVersion: cfg.vllmVersion,
    gpu: cfg.gpu.name,
    role: cfg.connector?.role ?? 'none',
    engineId: engineId ?? '',
    blockSize: cfg.blockSize,
    numGpuBlocks: cfg.numBlocks,
    gpuMemoryUtilization: cfg.gpuMemoryUtilization,
    prefixCaching: cfg.prefixCaching,
    tp: cfg.tp,
  });
  const window: StatsWindow = { prompt: 0, generation: 0, queried: 0, hits: 0, since: Date.now() };
  engine.observer = makeObserver(metrics, log, window);

  let nixl: NixlSim | null = null;
  let telemetry: NixlTelemetrySink | null = null;
  if (cfg.connector && engineId) {
    const c = cfg.connector;
    nixl = new NixlSim(
      {
        role: c.role,
        engineId,
        sideChannelHost: c.sideChannelHost,
        sideChannelPort: c.sideChannelPort,
        failurePolicy: c.failurePolicy,
        leaseS: c.leaseS,
        heartbeats: c.heartbeats,
        enforceHandshakeCompat: c.enforceHandshakeCompat,
        tp: cfg.tp,
        blockSize: cfg.blockSize,
        numBlocks: cfg.numBlocks,
        model: cfg.model,
        vllmVersion: cfg.vllmVersion,
        logStatsIntervalS: cfg.logStatsIntervalS,
        logStats: cfg.logStats,
      },
      latency,
      metrics,
      log,
      cfg.profile.timeScale,
    );
    nixl.releaseBlocks = (ids) => engine.releasePinned(ids);
    telemetry = NixlTelemetrySink.fromEnv(env, engineId);
    if (telemetry) {
      const sink = telemetry;
      nixl.onTransfer = (rank, r) => sink.record(rank, r);
    }
    engine.connector = nixl;
    try {
      await nixl.start();
    } catch (err) {
      throw new UserFacingError(
        'side-channel-bind-failed',
        `Could not listen on the NIXL side channel ${c.sideChannelHost}:${c.sideChannelPort} (${err instanceof Error ? err.message : String(err)}). ` +
          'Give every engine on a host its own VLLM_NIXL_SIDE_CHANNEL_PORT.',
      );
    }
    log.info(`NIXL side channel (simulated, HTTP) listening on ${c.sideChannelHost}:${nixl.port}; engine_id ${engineId}; kv_role ${c.role}; kv_load_failure_policy ${c.failurePolicy}; KV lease ${c.leaseS} s`);
  }

  const systemFingerprint = `vllm-${cfg.vllmVersion}-handoff-mocker-simulated-${seededHex(mulberry32(hash32(cfg.seed, 0xf1)), 8)}`;
  const server = createMockerServer({ cfg, engine, metrics, nixl, log, rng, systemFingerprint, startedAtS: now() });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: cfg.port, host: cfg.host, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await nixl?.close();
    telemetry?.close();
    throw new UserFacingError('http-bind-failed', `Could not listen on ${cfg.host}:${cfg.port} (${err instanceof Error ? err.message : String(err)}). Choose another --port.`);
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host;
  log.info(`Starting vLLM API server (simulated) on http://${cfg.host}:${port}`);

  const statsTimer = cfg.logStats ? setInterval(() => logEngineStats(log, engine, window), cfg.logStatsIntervalS * 1000) : null;
  statsTimer?.unref();
  log.info('Application startup complete.');

  let closed = false;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    sideChannelPort: nixl ? nixl.port : null,
    engineId,
    config: cfg,
    pinnedRequests: () => nixl?.pinnedRequests ?? 0,
    close: async () => {
      if (closed) return;
      closed = true;
      if (statsTimer) clearInterval(statsTimer);
      engine.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await nixl?.close();
      telemetry?.close();
    },
  };
}

/** Token counts since the last engine-stats log line. */
interface StatsWindow {
  prompt: number;
  generation: number;
  queried: number;
  hits: number;
  since: number;
}

function logEngineStats(log: MockerLog, engine: Engine, w: StatsWindow): void {
  const s = engine.stats();
  const dt = Math.max(1e-3, (Date.now() - w.since) / 1000);
  if (w.prompt === 0 && w.generation === 0 && s.running === 0 && s.waiting === 0) {
    w.since = Date.now();
    return;
  }
  log.info(
    `Engine 000: Avg prompt throughput: ${(w.prompt / dt).toFixed(1)} tokens/s, Avg generation throughput: ${(w.generation / dt).toFixed(1)} tokens/s, ` +
      `Running: ${s.running} reqs, Waiting: ${s.waiting} reqs, GPU KV cache usage: ${(s.kvUsage * 100).toFixed(1)}%, ` +
      `Prefix cache hit rate: ${w.queried ? ((100 * w.hits) / w.queried).toFixed(1) : '0.0'}%`,
  );
  w.prompt = 0;
  w.generation = 0;
  w.queried = 0;
  w.hits = 0;
  w.since = Date.now();
}

function makeObserver(m: MockerMetrics, log: MockerLog, metricsWindow: StatsWindow): EngineObserver {
  const l = m.l;
  // Bound children: labels() hashes its argument on every call, too slow per token at 50k tokens/s.
  const gen = m.generationTokens.labels(l);
  const ttft = m.ttft.labels(l);
  const itl = m.itl.labels(l);
  const iteration = m.iterationTokens.labels(l);
  return {
    stepDone: ({ prefillTokens, decodeTokens }) => {
      iteration.observe(prefillTokens + decodeTokens);
      gen.inc(0);
    },
    firstScheduled: () => undefined,
    token: (req, nowS, prevS) => {
      gen.inc(1);
      metricsWindow.generation++;
      if (prevS === null) ttft.observe(nowS - req.arrivalS);
      else itl.observe(nowS - prevS);
    },
    prefixCache: (queried, hits) => {
      m.inc(m.prefixQueries, queried);
      m.inc(m.prefixHits, hits);
      m.inc(m.promptTokensCachedBySource, hits, { source: 'device' });
      metricsWindow.queried += queried;
      metricsWindow.hits += hits;
    },
    promptTokens: (req: EngineRequest) => {
      const prompt = req.promptTokenIds.length;
      const local = req.localCacheHitTokens;
      // The engine models D recomputing the last prompt token, but vLLM 0.32 counts every token it
      // did not hold locally as external_kv_transfer (local_compute 0) and has no
      // vllm:prompt_tokens_recomputed: the real CPU build reported 457 of 457 prompt tokens external.
      const external = req.externalTokens > 0 ? Math.min(prompt - local, req.externalTokens + 1) : 0;
      m.inc(m.promptTokens, prompt);
      metricsWindow.prompt += prompt;
      m.inc(m.promptTokensBySource, prompt - local - external, { source: 'local_compute' });
      m.inc(m.promptTokensBySource, local, { source: 'local_cache_hit' });
      m.inc(m.promptTokensBySource, external, { source: 'external_kv_transfer' });
      m.inc(m.promptTokensCached, local + external);
      if (req.remotePrefill) {
        m.inc(m.externalPrefixQueries, prompt - local);
        m.inc(m.externalPrefixHits, external);
        m.inc(m.promptTokensCachedBySource, external, { source: 'p2p' });
      }
    },
    preempted: () => m.inc(m.preemptions, 1),
    requestFinished: (req: EngineRequest, reason: FinishReason, nowS: number) => {
      m.inc(m.requestSuccess, 1, { finished_reason: reason });
      const out = req.output.length;
      m.observe(m.requestPromptTokens, req.promptTokenIds.length);
      m.observe(m.requestGenerationTokens, out);
      m.observe(m.requestParamsMaxTokens, req.maxTokensParam);
      m.observe(m.requestMaxNumGenerationTokens, req.maxTokens);
      m.observe(m.requestParamsN, 1);
      m.observe(m.requestNumPreemptions, req.preemptions);
      m.observe(m.e2e, nowS - req.arrivalS);
      if (req.scheduledS !== null) {
        m.observe(m.queueTime, req.scheduledS - req.arrivalS);
        if (req.firstTokenS !== null && req.lastTokenS !== null) {
          m.observe(m.prefillTime, req.firstTokenS - req.scheduledS);
          m.observe(m.decodeTime, req.lastTokenS - req.firstTokenS);
          m.observe(m.inferenceTime, req.lastTokenS - req.scheduledS);
          if (out > 1) m.observe(m.tpot, (req.lastTokenS - req.firstTokenS) / (out - 1));
        }
        m.observe(m.prefillKvComputed, Math.max(0, req.promptTokenIds.length - req.localCacheHitTokens - req.externalTokens));
      }
      if (reason === 'error') log.error(`Request ${req.requestId} failed with an internal error during generation`);
    },
  };
}
