/**
 * Prometheus metrics with vLLM's names, label names and buckets (vllm/v1/metrics/loggers.py,
 * buckets.py and the NIXL connector's stats.py in vLLM 0.32; reference/vllm-disagg.md §3.1–3.2).
 * Counters carry the `_total` suffix that Python's prometheus_client adds. One registry per mocker
 * so several can run in one process. `handoff_mocker_info` says the engine is simulated.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];
const ITERATION_TOKENS_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const REQUEST_PARAMS_N_BUCKETS = [1, 2, 5, 10, 20];
const REQUEST_NUM_PREEMPTIONS_BUCKETS = [1, 2, 3, 4, 5, 10, 20];
const NIXL_TIME_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 5.0];
const NIXL_BYTES_BUCKETS = Array.from({ length: 12 }, (_, i) => 2 ** (10 + 1 + 2 * i));
const NIXL_DESCRIPTOR_BUCKETS = [10, 20, 30, 50, 75, 100, 200, 400, 1000, 2000, 4000, 10000, 20000, 50000];

/** vLLM's 1-2-5 series up to max_model_len (build_1_2_5_buckets). */
export function buckets125(maxValue: number): number[] {
  const out: number[] = [];
  for (let exp = 1; ; exp *= 10) {
    for (const m of [1, 2, 5]) {
      const v = m * exp;
      if (v > maxValue) return out;
      out.push(v);
    }
  }
}

export const FINISH_REASONS = ['stop', 'length', 'abort', 'error', 'repetition'] as const;
export const PROMPT_SOURCES = ['local_compute', 'local_cache_hit', 'external_kv_transfer'] as const;
/** vllm:prompt_tokens_cached_by_source tiers (vLLM 0.32 CacheHitSource): NIXL hits count as p2p. */
export const CACHE_HIT_SOURCES = ['device', 'host', 'p2p', 'disk', 'external_unspecified'] as const;

export interface MetricsInfo {
  modelName: string;
  maxModelLen: number;
  version: string;
  vllmVersion: string;
  gpu: string;
  role: string;
  engineId: string;
  blockSize: number;
  numGpuBlocks: number;
  gpuMemoryUtilization: number;
  prefixCaching: boolean;
  tp: number;
}

export class MockerMetrics {
  readonly registry = new Registry();
  private readonly labels: { model_name: string; engine: string };

  readonly running: Gauge<string>;
  readonly waiting: Gauge<string>;
  readonly kvUsage: Gauge<string>;
  readonly prefixQueries: Counter<string>;
  readonly prefixHits: Counter<string>;
  readonly externalPrefixQueries: Counter<string>;
  readonly externalPrefixHits: Counter<string>;
  readonly preemptions: Counter<string>;
  readonly promptTokens: Counter<string>;
  readonly promptTokensBySource: Counter<string>;
  readonly promptTokensCached: Counter<string>;
  readonly promptTokensCachedBySource: Counter<string>;
  readonly generationTokens: Counter<string>;
  readonly requestSuccess: Counter<string>;
  readonly requestPromptTokens: Histogram<string>;
  readonly requestGenerationTokens: Histogram<string>;
  readonly iterationTokens: Histogram<string>;
  readonly requestMaxNumGenerationTokens: Histogram<string>;
  readonly requestParamsN: Histogram<string>;
  readonly requestParamsMaxTokens: Histogram<string>;
  readonly ttft: Histogram<string>;
  readonly itl: Histogram<string>;
  readonly tpot: Histogram<string>;
  readonly e2e: Histogram<string>;
  readonly queueTime: Histogram<string>;
  readonly inferenceTime: Histogram<string>;
  readonly prefillTime: Histogram<string>;
  readonly decodeTime: Histogram<string>;
  readonly requestNumPreemptions: Histogram<string>;
  readonly prefillKvComputed: Histogram<string>;
  readonly nixlXferTime: Histogram<string>;
  readonly nixlPostTime: Histogram<string>;
  readonly nixlBytes: Histogram<string>;
  readonly nixlDescriptors: Histogram<string>;
  readonly nixlFailedTransfers: Counter<string>;
  readonly nixlFailedNotifications: Counter<string>;
  readonly nixlExpired: Counter<string>;
  readonly nixlNotifsAfterExpiry: Counter<string>;

  constructor(info: MetricsInfo) {
    const registers = [this.registry];
    const labelNames = ['model_name', 'engine'];
    this.labels = { model_name: info.modelName, engine: '0' };
    const gauge = (name: string, help: string): Gauge<string> => new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, extra: string[] = []): Counter<string> =>
      new Counter({ name, help, labelNames: [...labelNames, ...extra], registers });
    const histogram = (name: string, help: string, buckets: number[], into = registers): Histogram<string> =>
      new Histogram({ name, help, labelNames, buckets, registers: into });
    const tokenBuckets = buckets125(info.maxModelLen);

    new Gauge({
      name: 'handoff_mocker_info',
      help: 'Set to 1: this engine is SIMULATED by the Handoff mocker (no GPU, no model weights); every latency comes from its latency model.',
      labelNames: ['simulated', 'mocker_version', 'vllm_api_version', 'model_name', 'gpu', 'kv_role', 'engine_id', 'tensor_parallel_size'],
      registers,
    })
      .labels({
        simulated: 'true',
        mocker_version: info.version,
        vllm_api_version: info.vllmVersion,
        model_name: info.modelName,
        gpu: info.gpu,
        kv_role: info.role,
        engine_id: info.engineId,
        tensor_parallel_size: String(info.tp),
      })
      .set(1);
    new Gauge({
      name: 'vllm:cache_config_info',
      help: 'Information of the LLMEngine CacheConfig',
      labelNames: ['block_size', 'cache_dtype', 'enable_prefix_caching', 'gpu_memory_utilization', 'num_gpu_blocks', 'engine'],
      registers,
    })
      .labels({
        block_size: String(info.blockSize),
        cache_dtype: 'auto',
        enable_prefix_caching: info.prefixCaching ? 'True' : 'False',
        gpu_memory_utilization: String(info.gpuMemoryUtilization),
        num_gpu_blocks: String(info.numGpuBlocks),
        engine: '0',
      })
      .set(1);

    this.running = gauge('vllm:num_requests_running', 'Number of requests in model execution batches.');
    this.waiting = gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.');
    this.kvUsage = gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.');
    this.prefixQueries = counter('vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.');
    this.prefixHits = counter('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.');
    this.externalPrefixQueries = counter('vllm:external_prefix_cache_queries_total', 'External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.');
    this.externalPrefixHits = counter('vllm:external_prefix_cache_hits_total', 'External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.');
    this.preemptions = counter('vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.');
    this.promptTokens = counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.');
    this.promptTokensBySource = counter('vllm:prompt_tokens_by_source_total', 'Number of prompt tokens by source.', ['source']);
    this.promptTokensCached = counter('vllm:prompt_tokens_cached_total', 'Number of cached prompt tokens (local + external).');
    this.promptTokensCachedBySource = counter(
      'vllm:prompt_tokens_cached_by_source_total',
      'Prefix-cache hit tokens by the cache tier that supplied them: device (local HBM), host (offloaded to DRAM), disk, p2p (transferred from another vLLM instance) or external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits + vllm:external_prefix_cache_hits.',
      ['source'],
    );
    this.generationTokens = counter('vllm:generation_tokens_total', 'Number of generation tokens processed.');
    this.requestSuccess = counter('vllm:request_success_total', 'Count of successfully processed requests.', ['finished_reason']);
    this.requestPromptTokens = histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', tokenBuckets);
    this.requestGenerationTokens = histogram('vllm:request_generation_tokens', 'Number of generation tokens processed.', tokenBuckets);
    this.iterationTokens = histogram('vllm:iteration_tokens_total', 'Histogram of number of tokens per engine_step.', ITERATION_TOKENS_BUCKETS);
    this.requestMaxNumGenerationTokens = histogram('vllm:request_max_num_generation_tokens', 'Histogram of maximum number of requested generation tokens.', tokenBuckets);
    this.requestParamsN = histogram('vllm:request_params_n', 'Histogram of the n request parameter.', REQUEST_PARAMS_N_BUCKETS);
    this.requestParamsMaxTokens = histogram('vllm:request_params_max_tokens', 'Histogram of the max_tokens request parameter.', tokenBuckets);
    this.ttft = histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS);
    this.itl = histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS);
    this.tpot = histogram('vllm:request_time_per_output_token_seconds', 'Histogram of time_per_output_token_seconds per request.', ITL_BUCKETS);
    this.e2e = histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', REQUEST_LATENCY_BUCKETS);
    this.queueTime = histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', REQUEST_LATENCY_BUCKETS);
    this.inferenceTime = histogram('vllm:request_inference_time_seconds', 'Histogram of time spent in RUNNING phase for request.', REQUEST_LATENCY_BUCKETS);
    this.prefillTime = histogram('vllm:request_prefill_time_seconds', 'Histogram of time spent in PREFILL phase for request.', REQUEST_LATENCY_BUCKETS);
    this.decodeTime = histogram('vllm:request_decode_time_seconds', 'Histogram of time spent in DECODE phase for request.', REQUEST_LATENCY_BUCKETS);
    this.requestNumPreemptions = histogram('vllm:request_num_preemptions', 'Histogram of the number of times a request was preempted.', REQUEST_NUM_PREEMPTIONS_BUCKETS);
    this.prefillKvComputed = histogram('vllm:request_prefill_kv_computed_tokens', 'Histogram of new KV tokens computed during prefill (excluding cached tokens).', tokenBuckets);

    // vLLM registers the NIXL connector's metrics only when a KV connector is configured: a plain
    // (aggregated) vLLM 0.32 exposes no vllm:nixl_* series at all (seen on the real CPU build).
    const nixlRegisters = info.role === 'none' ? [] : registers;
    const nixlCounter = (name: string, help: string): Counter<string> => new Counter({ name, help, labelNames, registers: nixlRegisters });
    this.nixlXferTime = histogram('vllm:nixl_xfer_time_seconds', 'Histogram of transfer duration for NIXL KV Cache transfers.', NIXL_TIME_BUCKETS.slice(1), nixlRegisters);
    this.nixlPostTime = histogram('vllm:nixl_post_time_seconds', 'Histogram of transfer post time for NIXL KV Cache transfers.', NIXL_TIME_BUCKETS, nixlRegisters);
    this.nixlBytes = histogram('vllm:nixl_bytes_transferred', 'Histogram of bytes transferred per NIXL KV Cache transfers.', NIXL_BYTES_BUCKETS, nixlRegisters);
    this.nixlDescriptors = histogram('vllm:nixl_num_descriptors', 'Histogram of number of descriptors per NIXL  KV Cache transfers.', NIXL_DESCRIPTOR_BUCKETS, nixlRegisters);
    this.nixlFailedTransfers = nixlCounter('vllm:nixl_num_failed_transfers_total', 'Number of failed NIXL KV Cache transfers, including handshake and notification failures. NOTE: KV expiry is tracked separately in vllm:nixl_num_kv_expired_reqs.');
    this.nixlFailedNotifications = nixlCounter('vllm:nixl_num_failed_notifications_total', 'Number of failed NIXL KV Cache notifications. Retained for compatibility; these failures are also included in vllm:nixl_num_failed_transfers.');
    this.nixlExpired = nixlCounter('vllm:nixl_num_kv_expired_reqs_total', 'Number of requests that had their KV expire. NOTE: This metric is tracked on the P instance.');
    this.nixlNotifsAfterExpiry = nixlCounter('vllm:nixl_num_notifications_after_expiry_total', 'Number of completion notifications for requests that were no longer tracked, usually because their KV lease expired.');

    // prometheus_client exposes labelled children as soon as vLLM creates them: zero-valued series exist from the start.
    for (const c of [this.prefixQueries, this.prefixHits, this.externalPrefixQueries, this.externalPrefixHits, this.preemptions, this.promptTokens, this.promptTokensCached, this.generationTokens, this.nixlFailedTransfers, this.nixlFailedNotifications, this.nixlExpired, this.nixlNotifsAfterExpiry]) {
      c.labels(this.labels).inc(0);
    }
    for (const s of PROMPT_SOURCES) this.promptTokensBySource.labels({ ...this.labels, source: s }).inc(0);
    for (const s of CACHE_HIT_SOURCES) this.promptTokensCachedBySource.labels({ ...this.labels, source: s }).inc(0);
    // With a connector, vLLM creates the NIXL histograms' children up front: _count/_sum read 0 before any transfer.
    if (info.role !== 'none') for (const h of [this.nixlXferTime, this.nixlPostTime, this.nixlBytes, this.nixlDescriptors]) h.zero(this.labels);
    for (const r of FINISH_REASONS) this.requestSuccess.labels({ ...this.labels, finished_reason: r }).inc(0);
    for (const g of [this.running, this.waiting, this.kvUsage]) g.labels(this.labels).set(0);
  }

  get l(): { model_name: string; engine: string } {
    return this.labels;
  }

  inc(c: Counter<string>, v: number, extra?: Record<string, string>): void {
    if (v > 0) c.labels(extra ? { ...this.labels, ...extra } : this.labels).inc(v);
  }

  observe(h: Histogram<string>, v: number): void {
    h.labels(this.labels).observe(v);
  }

  set(g: Gauge<string>, v: number): void {
    g.labels(this.labels).set(v);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
