import { z } from 'zod';

/**
 * The JSON that `native/kvprobe` (CUDA) and its PyTorch fallback print: KV-block-shaped copies from
 * one GPU to another, timed per mode and per block count. Both producers and every reader validate
 * against this schema; bump KVPROBE_SCHEMA_VERSION on any incompatible change.
 */
export const KVPROBE_SCHEMA_VERSION = 1;

/**
 * per-piece: one cudaMemcpyPeerAsync per K/V piece (naive transfer);
 * gather: one kernel over peer-mapped memory (the ceiling NIXL should approach);
 * contiguous: one copy of the same bytes laid out contiguously (the link's peak);
 * host-staged: device → pinned host → device (what a host-memory fallback costs).
 */
export const KvprobeMode = z.enum(['per-piece', 'gather', 'contiguous', 'host-staged']);
export type KvprobeMode = z.infer<typeof KvprobeMode>;

export const KvprobeShape = z.object({
  layers: z.number().int().positive(),
  /** KV heads held by one rank: the model's KV heads ÷ TP (at least 1). */
  kvHeadsPerRank: z.number().int().positive(),
  headDim: z.number().int().positive(),
  dtypeBytes: z.number().int().positive(),
  /** Tokens per block (vLLM --block-size). */
  blockSize: z.number().int().positive(),
  /** 2 × layers × blockSize × kvHeadsPerRank × headDim × dtypeBytes. */
  bytesPerBlock: z.number().int().positive(),
  /** Pieces per block: separate K and V regions per layer, so 2 × layers. */
  piecesPerBlock: z.number().int().positive(),
});
export type KvprobeShape = z.infer<typeof KvprobeShape>;

export const KvprobeMeasurement = z.object({
  mode: KvprobeMode,
  blocks: z.number().int().positive(),
  iterations: z.number().int().positive(),
  /** Per-block latency = one transfer's wall time ÷ blocks, over the timed iterations. */
  perBlockUs: z.object({ p50: z.number().nonnegative(), p99: z.number().nonnegative(), mean: z.number().nonnegative() }),
  /** Bytes moved ÷ median transfer time, in 1e9 bytes per second. */
  gbPerS: z.number().nonnegative(),
  /** Every timed transfer's wall time in µs, when the producer was asked for them (--raw). */
  samplesUs: z.array(z.number().nonnegative()).optional(),
});
export type KvprobeMeasurement = z.infer<typeof KvprobeMeasurement>;

export const KvprobeDevice = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  /** PCI bus id as CUDA reports it, for matching `nvidia-smi topo -m`. */
  pciBusId: z.string().nullable(),
});

export const KvprobeResult = z.object({
  schema: z.literal(KVPROBE_SCHEMA_VERSION),
  /** native = the CUDA binary; torch = the PyTorch fallback; cpu = fallback arithmetic on CPU tensors (tests only). */
  implementation: z.enum(['native', 'torch', 'cpu']),
  /** Version of the producer: kvprobe's source hash, or torch's version. */
  producerVersion: z.string(),
  src: KvprobeDevice,
  dst: KvprobeDevice,
  /** Whether the driver reports peer access between src and dst (gather mode needs it). */
  peerAccess: z.boolean(),
  /** True when src and dst live in different processes sharing memory through CUDA IPC handles. */
  crossProcess: z.boolean(),
  shape: KvprobeShape,
  /** Block counts measured: 1, 16 and the count for a 3,000-token prompt. */
  blockCounts: z.array(z.number().int().positive()),
  measurements: z.array(KvprobeMeasurement),
  /** Modes that could not run, with the reason (e.g. gather without peer access). */
  skipped: z.array(z.object({ mode: KvprobeMode, reason: z.string() })).default([]),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
});
export type KvprobeResult = z.infer<typeof KvprobeResult>;
