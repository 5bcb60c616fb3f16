/**
 * The mocker's latency model. Every figure can be set in a JSON profile (`--mocker-profile`) or a
 * `--mocker-*` flag; what is not set is derived from the model shape and the simulated GPU:
 *
 *   step time   = [prefill tokens ÷ prefill rate] + [decode base + per-seq × batch + per-ctx-token × Σctx]
 *   prefill rate = prefillTokensPerS (TP 1) × TP speedup;  TP speedup = 1 + (TP − 1) × tpEfficiency
 *   decode base = weight bytes per GPU ÷ (HBM bandwidth × efficiency) + step overhead
 *   per-ctx-token = KV bytes per token per GPU ÷ (HBM bandwidth × efficiency)
 *   KV transfer = base + blocks × per-block time (× descriptor slowdown in "descriptor" mode)
 *
 * The per-block default is the fabric figure of reference/build-machine.md: ~5.6 µs for a 2 MiB
 * Llama-8B block when one kernel gathers all pieces, ~80× slower one descriptor at a time.
 */
import { z } from 'zod';
import { kvBytesPerBlock, kvBytesPerToken, weightBytesPerWorker, type GpuType, type ModelConfig } from '../../common/model-config';

export const LatencyProfile = z
  .object({
    prefillTokensPerS: z.number().positive(),
    tpEfficiency: z.number().min(0).max(1),
    decodeBaseMs: z.number().min(0),
    decodePerSeqMs: z.number().min(0),
    decodePerCtxTokenUs: z.number().min(0),
    /** 'batched' (one gather per transfer) or 'descriptor' (one copy per descriptor). */
    transferMode: z.enum(['batched', 'descriptor']),
    transferPerBlockUs: z.number().min(0),
    transferDescriptorSlowdown: z.number().min(1),
    transferBaseMs: z.number().min(0),
    /** Time to post a transfer to the backend (vllm:nixl_post_time_seconds). */
    transferPostMs: z.number().min(0),
    /** Chance per generated token of an EOS once min_tokens is reached (0 = always run to max_tokens). */
    eosProbability: z.number().min(0).max(1),
    /** Multiplies every simulated duration; 0 runs the engine as fast as the CPU allows. */
    timeScale: z.number().min(0),
    /** Relative jitter (seeded) applied to step times; 0 = exact. */
    jitter: z.number().min(0).max(1),
  })
  .strict();
export type LatencyProfile = z.infer<typeof LatencyProfile>;

export const PartialLatencyProfile = LatencyProfile.partial().strict();
export type PartialLatencyProfile = z.infer<typeof PartialLatencyProfile>;

/** Assumed model-FLOPs utilisation of prefill and HBM efficiency of decode. */
const PREFILL_MFU = 0.4;
const HBM_EFFICIENCY = 0.75;
const STEP_OVERHEAD_MS = 1.0;
/** reference/build-machine.md: 2 MiB block in ~5.6 µs batched, ~450 µs one piece at a time. */
const FABRIC_US_PER_2MIB_BLOCK = 5.6;
const DESCRIPTOR_SLOWDOWN = 80;

export function defaultProfile(model: ModelConfig, gpu: GpuType, blockSize: number): LatencyProfile {
  const bandwidth = gpu.memoryBandwidthGBs * 1e9 * HBM_EFFICIENCY;
  const blockBytes = kvBytesPerBlock(model, 1, blockSize);
  return {
    prefillTokensPerS: (gpu.bf16Tflops * 1e12 * PREFILL_MFU) / (2 * model.params),
    tpEfficiency: 0.85,
    decodeBaseMs: (weightBytesPerWorker(model, 1) / bandwidth) * 1e3 + STEP_OVERHEAD_MS,
    decodePerSeqMs: 0.02,
    decodePerCtxTokenUs: (kvBytesPerToken(model, 1) / bandwidth) * 1e6,
    transferMode: 'batched',
    transferPerBlockUs: FABRIC_US_PER_2MIB_BLOCK * (blockBytes / (2 * 1024 * 1024)),
    transferDescriptorSlowdown: DESCRIPTOR_SLOWDOWN,
    transferBaseMs: 0.05,
    transferPostMs: 0.02,
    eosProbability: 0,
    timeScale: 1,
    jitter: 0,
  };
}

export interface TransferCost {
  xferS: number;
  postS: number;
  descriptors: number;
  bytes: number;
}

export class LatencyModel {
  readonly tpSpeedup: number;
  constructor(
    readonly profile: LatencyProfile,
    readonly model: ModelConfig,
    readonly tp: number,
    readonly blockSize: number,
  ) {
    this.tpSpeedup = 1 + (tp - 1) * profile.tpEfficiency;
  }

  /** Seconds to prefill `tokens` prompt tokens (unscaled by timeScale). */
  prefillSeconds(tokens: number): number {
    return tokens / (this.profile.prefillTokensPerS * this.tpSpeedup);
  }

  /** Seconds of one decode step for `batch` sequences holding `contextTokens` tokens in total. */
  decodeSeconds(batch: number, contextTokens: number): number {
    if (batch <= 0) return 0;
    const p = this.profile;
    return (p.decodeBaseMs / 1e3 + (p.decodePerSeqMs / 1e3) * batch + (p.decodePerCtxTokenUs / 1e6) * contextTokens) / this.tpSpeedup;
  }

  /**
   * One engine step: chunked prefill and decode share the forward pass, so a step that only
   * prefills still pays the weight read (decode base) once.
   */
  stepSeconds(prefillTokens: number, decodeBatch: number, decodeContextTokens: number): number {
    const decode = decodeBatch > 0 ? this.decodeSeconds(decodeBatch, decodeContextTokens) : 0;
    const base = decodeBatch > 0 ? 0 : prefillTokens > 0 ? this.profile.decodeBaseMs / 1e3 / this.tpSpeedup : 0;
    return this.prefillSeconds(prefillTokens) + decode + base;
  }

  /**
   * One NIXL READ of `blocks` blocks by one decode worker: descriptors are one per K and per V
   * region per layer per block (FlashAttention layout, reference §3.4).
   */
  transfer(blocks: number, workerTp: number): TransferCost {
    const p = this.profile;
    const perBlockUs = p.transferPerBlockUs * (p.transferMode === 'descriptor' ? p.transferDescriptorSlowdown : 1);
    const descriptors = 2 * this.model.layers * blocks;
    return {
      xferS: p.transferBaseMs / 1e3 + (blocks * perBlockUs) / 1e6,
      postS: p.transferPostMs / 1e3,
      descriptors,
      bytes: blocks * kvBytesPerBlock(this.model, workerTp, this.blockSize),
    };
  }
}
