import { describe, expect, it } from 'vitest';
import { findBuiltinModel, findGpuType, kvBytesPerBlock, kvBytesPerToken, modelConfigFromHf } from './model-config';

describe('model configs', () => {
  it('computes 2 MiB per 16-token block for Llama-3.1-8B on one worker, half of it at TP 2', () => {
    const m = findBuiltinModel('deepseek-ai/DeepSeek-R1-Distill-Llama-8B')!;
    expect(kvBytesPerBlock(m, 1, 16)).toBe(2 * 1024 * 1024);
    expect(kvBytesPerBlock(m, 2, 16)).toBe(1024 * 1024);
    expect(kvBytesPerToken(m, 1)).toBe(128 * 1024);
  });

  it('replicates KV heads when TP exceeds them, as vLLM does', () => {
    const m = findBuiltinModel('meta-llama/Llama-3.1-70B-Instruct')!;
    expect(kvBytesPerBlock(m, 16, 16)).toBe(kvBytesPerBlock(m, 8, 16));
    expect(kvBytesPerBlock(m, 4, 16)).toBe(2 * 80 * 16 * 2 * 128 * 2);
  });

  it('estimates parameter counts close to the published sizes', () => {
    expect(findBuiltinModel('meta-llama/Llama-3.1-8B-Instruct')!.params / 1e9).toBeCloseTo(8.03, 1);
    expect(findBuiltinModel('meta-llama/Llama-3.3-70B-Instruct')!.params / 1e9).toBeCloseTo(70.6, 0);
  });

  it('finds built-ins by id or by a local directory named after the model, and GPUs by short name', () => {
    expect(findBuiltinModel('/models/Llama-3.1-8B-Instruct/')?.name).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(findBuiltinModel('nobody/unknown')).toBeUndefined();
    expect(findGpuType('h100')?.name).toBe('H100-80GB');
    expect(findGpuType('H200-141GB')?.memoryBandwidthGBs).toBe(4800);
  });

  it('reads the shape from a Hugging Face config.json and names what is missing', () => {
    const m = modelConfigFromHf('tiny', {
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 64, intermediate_size: 128, vocab_size: 1000, torch_dtype: 'float32',
    });
    expect(m).toMatchObject({ layers: 2, kvHeads: 2, headDim: 16, dtypeBytes: 4, maxPositionEmbeddings: 4096 });
    expect(() => modelConfigFromHf('bad', { num_attention_heads: 4 })).toThrow(/num_hidden_layers/);
  });
});
