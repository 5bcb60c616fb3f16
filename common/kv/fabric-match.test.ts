import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fabricVerdict, linkFromCell } from './fabric-link';
import { kvGpuPairs, matchFabricReference, specKvInstances } from './fabric-match';
import { fabricKey, type FabricProbeRecord } from './fabric-probe';
import { KvprobeResult } from './kvprobe-result';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'kvprobe');
const load = (name: string): KvprobeResult => KvprobeResult.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')));
const tp1 = load('h100-nvlink-llama8b-tp1.json');
const tp2 = load('h100-nvlink-llama8b-tp2.json');

function record(result: KvprobeResult, o: { host?: string; src?: number; dst?: number; at?: string } = {}): FabricProbeRecord {
  const src = o.src ?? 0;
  const dst = o.dst ?? 1;
  const link = linkFromCell('NV18');
  const { bytesPerBlock: _b, piecesPerBlock: _p, ...shape } = result.shape;
  return {
    key: fabricKey(src, dst, shape),
    host: o.host ?? 'gpu1',
    srcGpu: src,
    dstGpu: dst,
    model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
    tp: result.shape.kvHeadsPerRank === 8 ? 1 : 2,
    link,
    verdict: fabricVerdict(link, result),
    provenance: { via: 'prebuilt', path: '/home/u/.handoff/kvprobe', notes: [] },
    result,
    measuredAt: o.at ?? '2026-11-26T14:00:00.000Z',
  };
}

const pairKeys = (ps: ReturnType<typeof kvGpuPairs>) => ps.map((p) => `${p.srcHost}:${p.srcGpu}>${p.dstHost}:${p.dstGpu}`);

describe('KV GPU pairs', () => {
  it('has one prefill GPU feed both ranks of a TP-2 decode worker (the seed layout)', () => {
    const pairs = kvGpuPairs([{ host: 'h', gpuIds: [0], tp: 1 }], [{ host: 'h', gpuIds: [1, 2], tp: 2 }]);
    expect(pairKeys(pairs)).toEqual(['h:0>h:1', 'h:0>h:2']);
    expect(pairs.every((p) => p.decodeTp === 2 && !p.crossHost)).toBe(true);
  });

  it('pairs ranks one to one at equal TP and fans in when prefill TP exceeds decode TP', () => {
    expect(pairKeys(kvGpuPairs([{ host: 'h', gpuIds: [0, 1], tp: 2 }], [{ host: 'h', gpuIds: [2, 3], tp: 2 }]))).toEqual(['h:0>h:2', 'h:1>h:3']);
    expect(pairKeys(kvGpuPairs([{ host: 'h', gpuIds: [0, 1], tp: 2 }], [{ host: 'h', gpuIds: [2], tp: 1 }]))).toEqual(['h:0>h:2', 'h:1>h:2']);
  });

  it('pairs every prefill instance with every decode instance and marks pairs across hosts', () => {
    const pairs = kvGpuPairs(
      [
        { host: 'a', gpuIds: [0], tp: 1 },
        { host: 'a', gpuIds: [1], tp: 1 },
      ],
      [{ host: 'b', gpuIds: [0], tp: 1 }],
    );
    expect(pairKeys(pairs)).toEqual(['a:0>b:0', 'a:1>b:0']);
    expect(pairs.every((p) => p.crossHost)).toBe(true);
  });

  it('reads instances from a stored spec, splitting replicas into TP-sized GPU groups', () => {
    const spec = {
      workers: [
        { role: 'prefill', host: 'h', tp: 1, replicas: 2, gpus: [0, 1] },
        { role: 'decode', tp: 2, gpus: [2, 3] },
        { role: 'both', host: 'h', gpus: [4] },
      ],
    };
    const { prefill, decode } = specKvInstances(spec, 'this-computer');
    expect(prefill).toEqual([
      { host: 'h', gpuIds: [0], tp: 1 },
      { host: 'h', gpuIds: [1], tp: 1 },
    ]);
    expect(decode).toEqual([{ host: 'this-computer', gpuIds: [2, 3], tp: 2 }]);
  });

  it('reads nothing from a spec that is not one, rather than failing the run view', () => {
    expect(specKvInstances('not a spec', 'h')).toEqual({ prefill: [], decode: [] });
    expect(specKvInstances({ workers: [{ role: 'prefill', gpus: ['x'] }] }, 'h')).toEqual({ prefill: [], decode: [] });
  });
});

describe('matching a stored fabric result to a run', () => {
  const seedPairs = kvGpuPairs([{ host: 'gpu1', gpuIds: [0], tp: 1 }], [{ host: 'gpu1', gpuIds: [1, 2], tp: 2 }]);

  it('takes the gathered p50 per block of the largest count, for a pair the run used and the same bytes per block', () => {
    const ref = matchFabricReference(seedPairs, 1048576, [record(tp1), record(tp2)]);
    expect(ref?.usPerBlock).toBe(2.8596);
    expect(ref?.label).toBe('fabric ceiling (kvprobe, GPU0→1)');
    expect(ref?.source).toContain('gather p50 of 188-block transfers');
    expect(ref?.record.result.shape.bytesPerBlock).toBe(1048576);
  });

  it('ignores results of another block size, another pair or another host', () => {
    expect(matchFabricReference(seedPairs, 1048576, [record(tp1)])).toBeNull();
    expect(matchFabricReference(seedPairs, 1048576, [record(tp2, { src: 3, dst: 1 })])).toBeNull();
    expect(matchFabricReference(seedPairs, 1048576, [record(tp2, { host: 'other' })])).toBeNull();
    expect(matchFabricReference(seedPairs, null, [record(tp2)])).toBeNull();
  });

  it('prefers the first pair in rank order, then the newest measurement', () => {
    const older = record(tp2, { at: '2026-11-20T00:00:00.000Z' });
    const newer = record({ ...tp2, measurements: tp2.measurements.map((m) => (m.mode === 'gather' ? { ...m, perBlockUs: { ...m.perBlockUs, p50: 3.1 } } : m)) }, { at: '2026-11-26T00:00:00.000Z' });
    const second = record(tp2, { dst: 2, at: '2026-11-27T00:00:00.000Z' });
    const ref = matchFabricReference(seedPairs, 1048576, [older, second, newer]);
    expect(ref?.usPerBlock).toBe(3.1);
    expect(ref?.label).toContain('GPU0→1');
    expect(matchFabricReference(seedPairs, 1048576, [second])?.label).toBe('fabric ceiling (kvprobe, GPU0→2)');
  });

  it('has no reference when gather did not run or the run only crossed hosts', () => {
    const noGather = { ...tp2, measurements: tp2.measurements.filter((m) => m.mode !== 'gather') };
    expect(matchFabricReference(seedPairs, 1048576, [record(noGather)])).toBeNull();
    const cross = kvGpuPairs([{ host: 'other', gpuIds: [0], tp: 1 }], [{ host: 'gpu1', gpuIds: [1], tp: 1 }]);
    expect(matchFabricReference(cross, 1048576, [record(tp2, { host: 'other' })])).toBeNull();
  });
});
