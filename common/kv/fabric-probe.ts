import { z } from 'zod';
import { KvprobeMode, KvprobeResult, KvprobeShape } from './kvprobe-result';

/**
 * The fabric probe (issue 9 §1–2): kvprobe run by a host's agent for one GPU pair with a model's
 * KV block shape. Three surfaces share these schemas:
 * - agent RPC `probe.kv` / `probe.cancel` and notification `probe.progress` (common/agent-rpc.ts);
 * - controller API `hosts.fabricProbe` (a Task whose result is a FabricProbeRecord) and
 *   `hosts.fabric` (the records stored with the host) in common/api-contract.ts;
 * - `$HANDOFF_HOME/hosts/<host>/fabric.json` (FabricFile), one record per GPU pair + shape.
 */

/** The five numbers a block's shape is made of; bytesPerBlock and piecesPerBlock follow from them. */
export const KvprobeShapeInput = z.object({
  layers: z.int().min(1).max(1024),
  kvHeadsPerRank: z.int().min(1).max(1024),
  headDim: z.int().min(1).max(4096),
  dtypeBytes: z.int().min(1).max(8),
  blockSize: z.int().min(1).max(4096),
});
export type KvprobeShapeInput = z.infer<typeof KvprobeShapeInput>;

/** Fills in bytesPerBlock (2 × layers × blockSize × heads × headDim × dtypeBytes) and piecesPerBlock (2 × layers). */
export function kvprobeShape(s: KvprobeShapeInput): KvprobeShape {
  return {
    ...s,
    bytesPerBlock: 2 * s.layers * s.blockSize * s.kvHeadsPerRank * s.headDim * s.dtypeBytes,
    piecesPerBlock: 2 * s.layers,
  };
}

/** Block counts measured by default: one block, 16 blocks, and a 3,000-token prompt (ISL of the seed workload). */
export function defaultBlockCounts(blockSize: number): number[] {
  return [...new Set([1, 16, Math.ceil(3000 / blockSize)])].sort((a, b) => a - b);
}

/** Stable key of a GPU pair + shape, the identity of a stored record. */
export function fabricKey(srcGpu: number, dstGpu: number, s: KvprobeShapeInput): string {
  return `${srcGpu}->${dstGpu}:${s.layers}x${s.kvHeadsPerRank}x${s.headDim}x${s.dtypeBytes}b/bs${s.blockSize}`;
}

/** Which kvprobe the agent ran: auto = prebuilt, else built with the host's nvcc, else PyTorch. */
export const KvprobeImplementationChoice = z.enum(['auto', 'native', 'torch']);
export type KvprobeImplementationChoice = z.infer<typeof KvprobeImplementationChoice>;

export const ProbeId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use 1–64 letters, digits, ".", "_" or "-"');

/** Agent RPC `probe.kv` params. */
export const ProbeKvParams = z.object({
  /** Correlates probe.progress notifications and probe.cancel. */
  probeId: ProbeId.optional(),
  srcGpu: z.int().min(0).max(255),
  dstGpu: z.int().min(0).max(255),
  shape: KvprobeShapeInput,
  /** Default: defaultBlockCounts(shape.blockSize). */
  blockCounts: z.array(z.int().min(1).max(100_000)).min(1).max(16).optional(),
  /** Default: all four modes. */
  modes: z.array(KvprobeMode).min(1).optional(),
  /** Timed iterations per (mode, block count); default 50 (native) / 20 (torch). */
  iterations: z.int().min(1).max(10_000).optional(),
  implementation: KvprobeImplementationChoice.optional(),
});
export type ProbeKvParams = z.infer<typeof ProbeKvParams>;

/** How the agent got a kvprobe to run (issue 9 §1 "Build"). */
export const KvprobeProvenance = z.object({
  /** prebuilt = the binary shipped in the agent bundle; built = compiled now with the host's nvcc; cached = compiled earlier (same source hash); torch = kvprobe_torch.py. */
  via: z.enum(['prebuilt', 'built', 'cached', 'torch']),
  /** Binary path, or the python interpreter for torch. */
  path: z.string(),
  /** Why the earlier choices were passed over (driver too old, no nvcc, build failed…). */
  notes: z.array(z.string()),
});
export type KvprobeProvenance = z.infer<typeof KvprobeProvenance>;

export const ProbeKvResult = z.object({ result: KvprobeResult, provenance: KvprobeProvenance });
export type ProbeKvResult = z.infer<typeof ProbeKvResult>;

/** Agent → controller notification `probe.progress`. */
export const ProbeProgress = z.object({
  probeId: z.string(),
  /** locate | build | measure */
  phase: z.enum(['locate', 'build', 'measure']),
  message: z.string(),
  /** 0..1 when known. */
  fraction: z.number().min(0).max(1).optional(),
});
export type ProbeProgress = z.infer<typeof ProbeProgress>;

/**
 * The link between the two GPUs from `nvidia-smi topo -m` and the figure a block copy should reach
 * on it. expectedGbPerS is a rough achievable one-way copy rate for that link class, not a spec sheet.
 */
export const FabricLink = z.object({
  /** The topo matrix cell: NV18, PIX, PXB, PHB, NODE, SYS, X; null when the host gave no matrix. */
  topo: z.string().nullable(),
  kind: z.enum(['nvlink', 'pcie-switch', 'pcie-host-bridge', 'cross-socket', 'same-gpu', 'unknown']),
  expectedGbPerS: z.number().nonnegative().nullable(),
  description: z.string(),
});
export type FabricLink = z.infer<typeof FabricLink>;

export const FabricVerdict = z.object({
  /** ok: gather reaches at least half the link's expected figure; slow: below it or gather could not run; unknown: no expectation. */
  level: z.enum(['ok', 'slow', 'unknown']),
  message: z.string(),
  /** Best per-block figure at the largest block count (gather, else contiguous, else per-piece). */
  bestGbPerS: z.number().nonnegative().nullable(),
  bestPerBlockUs: z.number().nonnegative().nullable(),
});
export type FabricVerdict = z.infer<typeof FabricVerdict>;

/** One stored fabric measurement; `key` = fabricKey(srcGpu, dstGpu, shape). */
export const FabricProbeRecord = z.object({
  key: z.string(),
  host: z.string(),
  srcGpu: z.int().min(0),
  dstGpu: z.int().min(0),
  /** Model the shape came from, when the probe was asked by model name. */
  model: z.string().nullable(),
  tp: z.int().min(1).nullable(),
  link: FabricLink,
  verdict: FabricVerdict,
  provenance: KvprobeProvenance,
  result: KvprobeResult,
  measuredAt: z.string(),
});
export type FabricProbeRecord = z.infer<typeof FabricProbeRecord>;

export const FabricFile = z.object({ version: z.literal(1), records: z.array(FabricProbeRecord) });
export type FabricFile = z.infer<typeof FabricFile>;

/**
 * Controller API `hosts.fabricProbe` params: a GPU pair on one host, and the block shape either
 * explicitly or from a model name (built-in configs, common/model-config.ts) with TP and block size.
 */
export const FabricProbeParams = z
  .object({
    host: z.string().min(1),
    srcGpu: z.int().min(0).max(255),
    dstGpu: z.int().min(0).max(255),
    model: z.string().min(1).optional(),
    /** TP of the worker that holds the KV (kv heads per rank = kvHeads ÷ tp); with model only. Default 1. */
    tp: z.int().min(1).max(256).optional(),
    /** With model only; default 16 (vLLM's default). */
    blockSize: z.int().min(1).max(4096).optional(),
    shape: KvprobeShapeInput.optional(),
    blockCounts: ProbeKvParams.shape.blockCounts,
    modes: ProbeKvParams.shape.modes,
    iterations: ProbeKvParams.shape.iterations,
    implementation: KvprobeImplementationChoice.optional(),
  })
  .refine((p) => (p.model === undefined) !== (p.shape === undefined), { message: 'give either model or shape', path: ['shape'] });
export type FabricProbeParams = z.infer<typeof FabricProbeParams>;

/** The probe.* agent RPC surface, spread into AgentMethods / AgentNotifications (common/agent-rpc.ts). */
export const ProbeMethods = {
  /** Runs kvprobe for one GPU pair on this host; probe.progress notifications while it runs. Errors: no-gpu, kvprobe-unavailable, kvprobe-failed, cancelled. */
  'probe.kv': { params: ProbeKvParams, result: ProbeKvResult },
  /** Stops a running probe.kv (its process group); the call then fails with code cancelled. */
  'probe.cancel': { params: z.object({ probeId: ProbeId }), result: z.object({ cancelled: z.boolean() }) },
} as const;

export const ProbeNotifications = {
  'probe.progress': ProbeProgress,
} as const;
