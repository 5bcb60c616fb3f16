import { describe, expect, it } from 'vitest';
import { probeParamsFromFlags } from './probe-command';

describe('handoff probe flags', () => {
  it('builds params from a model with TP and block size', () => {
    expect(probeParamsFromFlags('gpu1', { src: '0', dst: '1', model: 'meta-llama/Llama-3.1-70B', tp: '4', blockSize: '32', blocks: '1,8', modes: 'gather,contiguous', iterations: '10' })).toEqual({
      host: 'gpu1', srcGpu: 0, dstGpu: 1, model: 'meta-llama/Llama-3.1-70B', tp: 4, blockSize: 32, blockCounts: [1, 8], modes: ['gather', 'contiguous'], iterations: 10,
    });
  });

  it('builds an explicit shape with default dtype bytes and block size', () => {
    expect(probeParamsFromFlags('gpu1', { src: '2', dst: '3', layers: '28', kvHeads: '4', headDim: '128', implementation: 'torch' })).toEqual({
      host: 'gpu1', srcGpu: 2, dstGpu: 3, implementation: 'torch', shape: { layers: 28, kvHeadsPerRank: 4, headDim: 128, dtypeBytes: 2, blockSize: 16 },
    });
  });

  it('refuses a model with a shape, half a shape, non-numbers, unknown modes and implementations', () => {
    expect(() => probeParamsFromFlags('h', { src: '0', dst: '1', model: 'm', layers: '2' })).toThrow(/either --model or the shape/);
    expect(() => probeParamsFromFlags('h', { src: '0', dst: '1', layers: '2' })).toThrow(/whole shape/);
    expect(() => probeParamsFromFlags('h', { src: 'zero', dst: '1', model: 'm' })).toThrow(/--src must be a whole number/);
    expect(() => probeParamsFromFlags('h', { src: '0', dst: '1', model: 'm', modes: 'gather,warp' })).toThrow(/Unknown mode "warp"/);
    expect(() => probeParamsFromFlags('h', { src: '0', dst: '1', model: 'm', implementation: 'cuda' })).toThrow(/auto, native or torch/);
  });
});
