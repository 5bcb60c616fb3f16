import { UserFacingError } from '../errors';
import { sumSeries } from './prom-text';
import { summarize, type Stats } from './stats';

/**
 * Per-block KV-transfer latency from vLLM's NIXL counters (reference/vllm-disagg.md §3.2, §3.4).
 * One NIXL transfer moves one request's blocks from one prefill rank to one decode rank, so its
 * bytes are per-rank bytes and blocks = bytes ÷ bytes-per-block-per-rank. NIXL may merge
 * descriptors, so descriptor counts are not block counts. The histogram buckets start at 5 ms,
 * hence the _sum counters, not the buckets.
 */

export const NIXL_XFER_TIME_SUM = 'vllm:nixl_xfer_time_seconds_sum';
export const NIXL_XFER_TIME_COUNT = 'vllm:nixl_xfer_time_seconds_count';
export const NIXL_BYTES_SUM = 'vllm:nixl_bytes_transferred_sum';

export interface KvBlockShape {
  layers: number;
  /** Tokens per KV block (vLLM --block-size). */
  blockSize: number;
  /** KV heads of the model (num_key_value_heads). */
  kvHeads: number;
  headDim: number;
  /** 2 for fp16/bf16, 1 for fp8. */
  dtypeBytes: number;
  /** Tensor-parallel size of the reading (decode) side: each rank holds kvHeads/TP heads. */
  tp: number;
  /** MLA models (DeepSeek) keep one latent vector per token per layer, replicated on every rank. */
  mlaLatentDim?: number;
}

/**
 * Bytes of one KV block on one rank: for standard attention 2 (K and V) × layers × block size ×
 * (KV heads ÷ TP) × head dim × dtype bytes; for MLA layers × block size × latent dim × dtype bytes.
 * With TP larger than the KV heads, each rank still holds one (replicated) head.
 */
export function bytesPerBlockPerRank(s: KvBlockShape): number {
  for (const [k, v] of Object.entries(s)) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
      throw new UserFacingError('invalid-kv-shape', `KV block shape: ${k} must be a positive number, got ${String(v)}. Check the model config (num_hidden_layers, num_key_value_heads, head_dim) and the block size.`);
    }
  }
  if (s.mlaLatentDim !== undefined) return s.layers * s.blockSize * s.mlaLatentDim * s.dtypeBytes;
  const headsPerRank = Math.max(1, s.kvHeads / s.tp);
  return 2 * s.layers * s.blockSize * headsPerRank * s.headDim * s.dtypeBytes;
}

/** The NIXL counters of one scrape, summed over engines and workers. */
export interface NixlCounters {
  tMs: number;
  xferTimeSumS: number;
  bytesSum: number;
  /** Number of transfers, when the _count series was scraped. */
  transfers?: number;
}

/** Reads the NIXL counters from a samples.jsonl `values` map; undefined when vLLM exposed none. */
export function nixlCountersFromValues(tMs: number, values: Record<string, number>): NixlCounters | undefined {
  const xfer = sumSeries(values, NIXL_XFER_TIME_SUM);
  const bytes = sumSeries(values, NIXL_BYTES_SUM);
  if (xfer === undefined || bytes === undefined) return undefined;
  const c: NixlCounters = { tMs, xferTimeSumS: xfer, bytesSum: bytes };
  const count = sumSeries(values, NIXL_XFER_TIME_COUNT);
  if (count !== undefined) c.transfers = count;
  return c;
}

export interface BlockLatency {
  /** Seconds per block: Δ xfer time ÷ (Δ bytes ÷ bytes per block). */
  perBlockS: number;
  blocks: number;
  xferTimeS: number;
  bytes: number;
  transfers?: number;
  fromMs: number;
  toMs: number;
}

/**
 * Per-block latency between two scrapes. Undefined when nothing moved in between, or when a
 * counter went backwards (a worker restarted, so the interval is meaningless).
 */
export function perBlockLatency(a: NixlCounters, b: NixlCounters, bytesPerBlock: number): BlockLatency | undefined {
  if (!(bytesPerBlock > 0)) throw new UserFacingError('invalid-kv-shape', `Bytes per KV block must be positive, got ${bytesPerBlock}.`);
  const dx = b.xferTimeSumS - a.xferTimeSumS;
  const db = b.bytesSum - a.bytesSum;
  if (!(db > 0) || dx < 0) return undefined;
  const blocks = db / bytesPerBlock;
  const r: BlockLatency = { perBlockS: dx / blocks, blocks, xferTimeS: dx, bytes: db, fromMs: a.tMs, toMs: b.tMs };
  if (a.transfers !== undefined && b.transfers !== undefined) r.transfers = b.transfers - a.transfers;
  return r;
}

export interface BlockLatencySummary {
  /** Over the whole run: first scrape to last (a ratio of sums, so busy intervals weigh more). */
  run: BlockLatency | undefined;
  /** Each sampling interval in which blocks moved. */
  intervals: BlockLatency[];
  /** Distribution of the per-interval per-block latencies, in seconds (each interval weighs one). */
  stats: Stats | null;
}

/**
 * The run's per-block latency and its distribution over sampling intervals, from scrapes in time
 * order. A counter reset splits the run: the run figure then sums the valid intervals.
 */
export function blockLatencySummary(scrapes: readonly NixlCounters[], bytesPerBlock: number): BlockLatencySummary {
  const intervals: BlockLatency[] = [];
  let reset = false;
  for (let i = 1; i < scrapes.length; i++) {
    const a = scrapes[i - 1]!;
    const b = scrapes[i]!;
    if (b.xferTimeSumS < a.xferTimeSumS || b.bytesSum < a.bytesSum) reset = true;
    const r = perBlockLatency(a, b, bytesPerBlock);
    if (r) intervals.push(r);
  }
  let run: BlockLatency | undefined;
  if (!reset && scrapes.length >= 2) run = perBlockLatency(scrapes[0]!, scrapes[scrapes.length - 1]!, bytesPerBlock);
  else if (intervals.length > 0) {
    const xferTimeS = intervals.reduce((s, r) => s + r.xferTimeS, 0);
    const bytes = intervals.reduce((s, r) => s + r.bytes, 0);
    const blocks = bytes / bytesPerBlock;
    run = { perBlockS: xferTimeS / blocks, blocks, xferTimeS, bytes, fromMs: intervals[0]!.fromMs, toMs: intervals[intervals.length - 1]!.toMs };
  }
  return { run, intervals, stats: summarize(intervals.map((r) => r.perBlockS)) };
}
