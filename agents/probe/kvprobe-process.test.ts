import { describe, expect, it } from 'vitest';
import { parseKvprobeOutput, parseProgressLine } from './kvprobe-process';
import { kvprobeArgs } from './probe-plugin';

const valid = {
  schema: 1, implementation: 'native', producerVersion: 'kvprobe-x',
  src: { index: 0, name: 'H100', pciBusId: null }, dst: { index: 1, name: 'H100', pciBusId: null },
  peerAccess: true, crossProcess: true,
  shape: { layers: 1, kvHeadsPerRank: 1, headDim: 8, dtypeBytes: 2, blockSize: 16, bytesPerBlock: 512, piecesPerBlock: 2 },
  blockCounts: [1], measurements: [], skipped: [], startedAt: 'now', durationMs: 1,
};

describe('kvprobe output', () => {
  it('reads progress lines and clamps the fraction', () => {
    expect(parseProgressLine('progress 0.2500 gather, 16 blocks')).toEqual({ fraction: 0.25, message: 'gather, 16 blocks' });
    expect(parseProgressLine('progress 7 done')).toEqual({ fraction: 1, message: 'done' });
    expect(parseProgressLine('kvprobe: cudaMalloc failed')).toBeNull();
  });

  it('takes the last line of stdout as the result', () => {
    expect(parseKvprobeOutput(`warning: something\n${JSON.stringify(valid)}\n\n`, 'kvprobe').producerVersion).toBe('kvprobe-x');
  });

  it('gives a clear error for no output, non-JSON, and JSON that is not a kvprobe result', () => {
    expect(() => parseKvprobeOutput('', 'kvprobe')).toThrow(/printed no result/);
    expect(() => parseKvprobeOutput('Segmentation fault', 'kvprobe')).toThrow(/not JSON: Segmentation fault/);
    expect(() => parseKvprobeOutput(JSON.stringify({ ...valid, schema: 2 }), 'kvprobe')).toThrow(/the result of kvprobe/);
  });
});

describe('kvprobe arguments', () => {
  const shape = { layers: 32, kvHeadsPerRank: 8, headDim: 128, dtypeBytes: 2, blockSize: 16 };
  it('passes the shape, default block counts and options, and --device cpu only to torch when asked', () => {
    const args = kvprobeArgs({ srcGpu: 0, dstGpu: 1, shape, modes: ['gather', 'contiguous'], iterations: 9 }, false, { HANDOFF_KVPROBE_DEVICE: 'cpu' });
    expect(args.join(' ')).toBe('--src 0 --dst 1 --layers 32 --kv-heads 8 --head-dim 128 --dtype-bytes 2 --block-size 16 --blocks 1,16,188 --modes gather,contiguous --iterations 9');
    expect(kvprobeArgs({ srcGpu: 1, dstGpu: 0, shape, blockCounts: [4] }, true, { HANDOFF_KVPROBE_DEVICE: 'cpu' }).slice(-3)).toEqual(['4', '--device', 'cpu']);
    expect(kvprobeArgs({ srcGpu: 1, dstGpu: 0, shape }, true, {})).not.toContain('--device');
  });
});
