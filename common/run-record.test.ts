import { describe, expect, it } from 'vitest';
import { MetricSample, RequestRecord, RouterTrace, RunJson } from './run-record';

const RUN = {
  schema: 1,
  id: '20260101-120000-seed',
  status: 'complete',
  simulated: true,
  tool: { name: 'builtin', version: '0.1.0' },
  versions: { handoff: '0.1.0' },
  deployment: { name: 'seed-disagg', mode: 'disaggregated', engine: 'mocker', gpuCount: 3 },
  hosts: [{ name: 'this-computer' }],
  timings: { createdAt: '2026-01-01T12:00:00Z', startedAt: '2026-01-01T12:00:01Z', finishedAt: '2026-01-01T12:01:00Z', originEpochNs: '1767268800000000000' },
  workload: { endpointType: 'chat', streaming: true, concurrency: 10, requestCount: 40, warmupRequestCount: 10, islMean: 3000, islStddev: 0, oslMean: 150, oslStddev: 0, randomSeed: 123 },
};

describe('run record schemas', () => {
  it('accepts a complete run.json and fills defaults', () => {
    const r = RunJson.parse(RUN);
    expect(r.imported).toBe(false);
    expect(r.artifacts).toEqual([]);
  });

  it('requires the simulated flag and a known status', () => {
    const { simulated: _s, ...noFlag } = RUN;
    expect(RunJson.safeParse(noFlag).success).toBe(false);
    expect(RunJson.safeParse({ ...RUN, status: 'half-done' }).success).toBe(false);
    expect(RunJson.safeParse({ ...RUN, timings: { ...RUN.timings, originEpochNs: 1.7e18 } }).success).toBe(false);
  });

  it('parses requests.jsonl, samples.jsonl and traces.jsonl lines', () => {
    expect(RequestRecord.parse({ sendNs: 0, chunkNs: [5, 6], firstTokenNs: 5, lastTokenNs: 6, inputTokens: 3000, outputTokens: { usage: 2, chunks: 2 }, error: null }).chunkNs).toEqual([5, 6]);
    expect(RequestRecord.safeParse({ sendNs: 0, firstTokenNs: null, lastTokenNs: null, inputTokens: null, outputTokens: { usage: -1, chunks: 0 }, error: null }).success).toBe(false);
    expect(MetricSample.parse({ kind: 'prometheus', tMs: 1, source: 'decode-0', values: { 'vllm:num_requests_running{engine="0"}': 2 } }).kind).toBe('prometheus');
    expect(MetricSample.parse({ kind: 'gpu', tMs: 1, host: 'gpu1', gpus: [{ index: 0, utilizationPct: 97, memoryUsedMiB: 70000, memoryTotalMiB: 81559 }] }).kind).toBe('gpu');
    expect(RouterTrace.parse({ requestId: 'r1', arrivalNs: 0, remotePrefill: true, prefillWorker: 'prefill-0', blocks: 188 }).blocks).toBe(188);
  });
});
