import { z } from 'zod';

/**
 * The shape of a transformer that matters for serving: how big its weights are and how many bytes
 * one token of KV cache takes. Used by the mocker (KV pool size, latency model), the planner and the
 * per-block transfer latency math (reference/vllm-disagg.md §3.4).
 */
export const ModelConfig = z.object({
  /** Hugging Face id or the name it was loaded under. */
  name: z.string().min(1),
  layers: z.number().int().positive(),
  attentionHeads: z.number().int().positive(),
  kvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  maxPositionEmbeddings: z.number().int().positive(),
  /** Bytes per weight and per KV element (bf16/fp16 = 2). */
  dtypeBytes: z.number().positive(),
  tieWordEmbeddings: z.boolean(),
  /** Parameter count; computed from the shape when a config.json does not say. */
  params: z.number().positive(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  dtypeBytes: number;
}

/** KV heads held by one tensor-parallel worker; vLLM replicates heads when TP exceeds them. */
export function kvHeadsPerWorker(kvHeads: number, tp: number): number {
  return Math.max(1, Math.floor(kvHeads / tp));
}

/**
 * Bytes of one KV block on one worker (non-MLA): K and V × layers × block_size × heads per worker ×
 * head_dim × dtype bytes. reference/vllm-disagg.md §3.4. Llama-3.1-8B, TP 1, block 16: 2 MiB.
 */
export function kvBytesPerBlock(shape: KvShape, tp: number, blockSize: number): number {
  return 2 * shape.layers * blockSize * kvHeadsPerWorker(shape.kvHeads, tp) * shape.headDim * shape.dtypeBytes;
}

/** Bytes of KV cache one token takes on one worker. */
export function kvBytesPerToken(shape: KvShape, tp: number): number {
  return kvBytesPerBlock(shape, tp, 1);
}

/** Parameter count of a Llama-style decoder from its shape (attention + gated MLP + embeddings). */
export function estimateParams(c: Omit<ModelConfig, 'params' | 'name'>): number {
  const qDim = c.attentionHeads * c.headDim;
  const kvDim = c.kvHeads * c.headDim;
  const attention = c.hiddenSize * qDim + 2 * c.hiddenSize * kvDim + qDim * c.hiddenSize;
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
  const norms = 2 * c.hiddenSize;
  const embeddings = c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2);
  return c.layers * (attention + mlp + norms) + embeddings + c.hiddenSize;
}

type Shape = Omit<ModelConfig, 'params' | 'name'>;

function model(name: string, shape: Shape, params?: number): ModelConfig {
  return { name, ...shape, params: params ?? estimateParams(shape) };
}

const llama31_8b: Shape = {
  layers: 32, attentionHeads: 32, kvHeads: 8, headDim: 128, hiddenSize: 4096, intermediateSize: 14336,
  vocabSize: 128256, maxPositionEmbeddings: 131072, dtypeBytes: 2, tieWordEmbeddings: false,
};
const llama31_70b: Shape = {
  layers: 80, attentionHeads: 64, kvHeads: 8, headDim: 128, hiddenSize: 8192, intermediateSize: 28672,
  vocabSize: 128256, maxPositionEmbeddings: 131072, dtypeBytes: 2, tieWordEmbeddings: false,
};
const llama32_1b: Shape = {
  layers: 16, attentionHeads: 32, kvHeads: 8, headDim: 64, hiddenSize: 2048, intermediateSize: 8192,
  vocabSize: 128256, maxPositionEmbeddings: 131072, dtypeBytes: 2, tieWordEmbeddings: true,
};
const llama32_3b: Shape = {
  layers: 28, attentionHeads: 24, kvHeads: 8, headDim: 128, hiddenSize: 3072, intermediateSize: 8192,
  vocabSize: 128256, maxPositionEmbeddings: 131072, dtypeBytes: 2, tieWordEmbeddings: true,
};
const qwen25_7b: Shape = {
  layers: 28, attentionHeads: 28, kvHeads: 4, headDim: 128, hiddenSize: 3584, intermediateSize: 18944,
  vocabSize: 152064, maxPositionEmbeddings: 32768, dtypeBytes: 2, tieWordEmbeddings: false,
};
const qwen3_8b: Shape = {
  layers: 36, attentionHeads: 32, kvHeads: 8, headDim: 128, hiddenSize: 4096, intermediateSize: 12288,
  vocabSize: 151936, maxPositionEmbeddings: 40960, dtypeBytes: 2, tieWordEmbeddings: false,
};
const mistral_7b: Shape = {
  layers: 32, attentionHeads: 32, kvHeads: 8, headDim: 128, hiddenSize: 4096, intermediateSize: 14336,
  vocabSize: 32768, maxPositionEmbeddings: 32768, dtypeBytes: 2, tieWordEmbeddings: false,
};
const qwen25_1_5b: Shape = {
  layers: 28, attentionHeads: 12, kvHeads: 2, headDim: 128, hiddenSize: 1536, intermediateSize: 8960,
  vocabSize: 151936, maxPositionEmbeddings: 131072, dtypeBytes: 2, tieWordEmbeddings: false,
};

/** Built-in configs of common models (values from their published config.json files). */
export const BUILTIN_MODELS: readonly ModelConfig[] = [
  model('deepseek-ai/DeepSeek-R1-Distill-Llama-8B', llama31_8b),
  model('meta-llama/Llama-3.1-8B-Instruct', llama31_8b),
  model('meta-llama/Llama-3.1-8B', llama31_8b),
  model('meta-llama/Meta-Llama-3-8B-Instruct', { ...llama31_8b, maxPositionEmbeddings: 8192 }),
  model('deepseek-ai/DeepSeek-R1-Distill-Llama-70B', llama31_70b),
  model('meta-llama/Llama-3.1-70B-Instruct', llama31_70b),
  model('meta-llama/Llama-3.1-70B', llama31_70b),
  model('meta-llama/Llama-3.3-70B-Instruct', llama31_70b),
  model('meta-llama/Meta-Llama-3-70B-Instruct', { ...llama31_70b, maxPositionEmbeddings: 8192 }),
  model('meta-llama/Llama-3.2-1B-Instruct', llama32_1b),
  model('meta-llama/Llama-3.2-3B-Instruct', llama32_3b),
  model('deepseek-ai/DeepSeek-R1-Distill-Qwen-7B', { ...qwen25_7b, maxPositionEmbeddings: 131072 }),
  model('deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', qwen25_1_5b),
  model('Qwen/Qwen2.5-7B-Instruct', qwen25_7b),
  model('Qwen/Qwen3-8B', qwen3_8b),
  model('mistralai/Mistral-7B-Instruct-v0.3', mistral_7b),
];

/**
 * Finds a built-in config by Hugging Face id, by its last path segment (a local directory named
 * after the model), case-insensitively.
 */
export function findBuiltinModel(nameOrPath: string): ModelConfig | undefined {
  const wanted = nameOrPath.replace(/\/+$/, '').toLowerCase();
  const base = wanted.split('/').pop() ?? wanted;
  return (
    BUILTIN_MODELS.find((m) => m.name.toLowerCase() === wanted) ??
    BUILTIN_MODELS.find((m) => (m.name.split('/').pop() ?? '').toLowerCase() === base)
  );
}

/** The subset of a Hugging Face config.json that the shape is read from. */
const HfConfig = z
  .object({
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().nullable().optional(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    vocab_size: z.number().int().positive(),
    max_position_embeddings: z.number().int().positive().optional(),
    torch_dtype: z.string().optional(),
    dtype: z.string().optional(),
    tie_word_embeddings: z.boolean().optional(),
  })
  .passthrough();

const DTYPE_BYTES: Record<string, number> = {
  bfloat16: 2, float16: 2, half: 2, fp16: 2, bf16: 2, float32: 4, float: 4, fp32: 4,
  float8_e4m3fn: 1, fp8: 1, int8: 1,
};

export function dtypeBytesOf(dtype: string | undefined, fallback = 2): number {
  if (!dtype) return fallback;
  return DTYPE_BYTES[dtype.toLowerCase()] ?? fallback;
}

/**
 * Builds a ModelConfig from a parsed Hugging Face config.json. Throws a zod error naming the
 * missing fields when the file is not a decoder config this understands.
 */
export function modelConfigFromHf(name: string, json: unknown): ModelConfig {
  const hf = HfConfig.parse(json);
  const headDim = hf.head_dim ?? Math.floor(hf.hidden_size / hf.num_attention_heads);
  const shape: Shape = {
    layers: hf.num_hidden_layers,
    attentionHeads: hf.num_attention_heads,
    kvHeads: hf.num_key_value_heads ?? hf.num_attention_heads,
    headDim,
    hiddenSize: hf.hidden_size,
    intermediateSize: hf.intermediate_size,
    vocabSize: hf.vocab_size,
    maxPositionEmbeddings: hf.max_position_embeddings ?? 4096,
    dtypeBytes: dtypeBytesOf(hf.torch_dtype ?? hf.dtype),
    tieWordEmbeddings: hf.tie_word_embeddings ?? false,
  };
  return model(name, shape);
}

/** Weight bytes that one tensor-parallel worker holds. */
export function weightBytesPerWorker(m: ModelConfig, tp: number): number {
  return (m.params * m.dtypeBytes) / tp;
}

/** GPUs the mocker can pretend to be: memory, dense bf16 throughput and HBM bandwidth. */
export const GpuType = z.object({
  name: z.string(),
  memoryBytes: z.number().positive(),
  bf16Tflops: z.number().positive(),
  memoryBandwidthGBs: z.number().positive(),
});
export type GpuType = z.infer<typeof GpuType>;

const GiB = 1024 ** 3;

export const GPU_TYPES: readonly GpuType[] = [
  { name: 'H100-80GB', memoryBytes: 79.6 * GiB, bf16Tflops: 989, memoryBandwidthGBs: 3350 },
  { name: 'H200-141GB', memoryBytes: 139.8 * GiB, bf16Tflops: 989, memoryBandwidthGBs: 4800 },
  { name: 'A100-80GB', memoryBytes: 79.2 * GiB, bf16Tflops: 312, memoryBandwidthGBs: 2039 },
  { name: 'A100-40GB', memoryBytes: 39.4 * GiB, bf16Tflops: 312, memoryBandwidthGBs: 1555 },
  { name: 'L40S-48GB', memoryBytes: 44.5 * GiB, bf16Tflops: 362, memoryBandwidthGBs: 864 },
  { name: 'L4-24GB', memoryBytes: 22.0 * GiB, bf16Tflops: 121, memoryBandwidthGBs: 300 },
  { name: 'A10G-24GB', memoryBytes: 22.0 * GiB, bf16Tflops: 125, memoryBandwidthGBs: 600 },
  { name: 'RTX4090-24GB', memoryBytes: 23.6 * GiB, bf16Tflops: 165, memoryBandwidthGBs: 1008 },
];

/** Finds a GPU type by name, tolerant of case and of the memory suffix ("h100" → H100-80GB). */
export function findGpuType(name: string): GpuType | undefined {
  const wanted = name.toLowerCase().replace(/[\s_]/g, '-');
  return (
    GPU_TYPES.find((g) => g.name.toLowerCase() === wanted) ??
    GPU_TYPES.find((g) => g.name.toLowerCase().split('-')[0] === wanted.split('-')[0])
  );
}
