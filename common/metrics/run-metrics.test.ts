import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../run-record';
import { parseSlos } from './goodput';
import { outputSequenceLength, requestMetrics } from './request-metrics';
import { computeRunMetrics } from './run-metrics';

const MS = 1e6;

function rec(sendMs: number, chunksMs: number[], usage: number | null, extra: Partial<RequestRecord> = {}): RequestRecord {
  const chunkNs = chunksMs.map((c) => c * MS);
  return {
    sendNs: sendMs * MS,
    chunkNs,
    firstTokenNs: chunkNs[0] ?? null,
    lastTokenNs: chunkNs[chunkNs.length - 1] ?? null,
    inputTokens: null,
    outputTokens: { usage, chunks: chunkNs.length },
    error: null,
    ...extra,
  };
}

describe('requestMetrics', () => {
  it('computes TTFT, TTST, latency, ITL = (latency − TTFT)/(OSL − 1) and TPS/user by hand', () => {
    const m = requestMetrics(rec(0, [100, 120, 140, 160], 4));
    expect(m.ttftNs).toBe(100 * MS);
    expect(m.ttstNs).toBe(20 * MS);
    expect(m.latencyNs).toBe(160 * MS);
    expect(m.osl).toBe(4);
    expect(m.itlNs).toBe(20 * MS); // (160 − 100) / 3
    expect(m.tpsPerUser).toBeCloseTo(50, 12); // 1 / 0.020 s
  });

  it('divides decode time by tokens, not chunks, when chunks carry several tokens', () => {
    // 3 chunks but 7 tokens (speculative decoding): ITL = (300 − 200) / 6.
    const m = requestMetrics(rec(0, [200, 250, 300], 7));
    expect(m.itlNs! / MS).toBeCloseTo(100 / 6, 12);
  });

  it('prefers the re-tokenized count over usage over the chunk count for OSL', () => {
    expect(outputSequenceLength(rec(0, [1, 2], 9, { outputTokens: { usage: 9, chunks: 2, tokenizer: 8 } }))).toBe(8);
    expect(outputSequenceLength(rec(0, [1, 2], 9))).toBe(9);
    expect(outputSequenceLength(rec(0, [1, 2], null))).toBe(2);
  });

  it('has no ITL for a single-token answer or a single response, as GenAI-Perf', () => {
    expect(requestMetrics(rec(0, [100], 1)).itlNs).toBeUndefined();
    expect(requestMetrics(rec(0, [100], 5)).itlNs).toBeUndefined(); // one response: latency == TTFT
  });

  it('drops TTFT, TTST and ITL for non-streaming requests but keeps latency and OSL', () => {
    const m = requestMetrics(rec(0, [500], 50), false);
    expect(m.latencyNs).toBe(500 * MS);
    expect(m.osl).toBe(50);
    expect(m.ttftNs).toBeUndefined();
    expect(m.itlNs).toBeUndefined();
  });

  it('reports TTFO from the first content token and splits reasoning from answer tokens', () => {
    const m = requestMetrics(rec(0, [80, 100, 3000, 3020], null, { firstContentNs: 3000 * MS, outputTokens: { usage: null, chunks: 4, tokenizer: 300, reasoning: 250 } }));
    expect(m.ttftNs).toBe(80 * MS);
    expect(m.ttfoNs).toBe(3000 * MS);
    expect(m.outputTokenCount).toBe(50);
    expect(m.reasoningTokenCount).toBe(250);
  });

  it('has only ISL for failed requests', () => {
    const m = requestMetrics(rec(0, [], null, { inputTokens: 12, error: { code: 500, type: null, message: 'boom' } }));
    expect(m).toEqual({ isl: 12 });
  });
});

describe('computeRunMetrics', () => {
  const records: RequestRecord[] = [
    rec(0, [100, 120, 140, 160], 4, { inputTokens: 10 }), // TTFT 100, ITL 20, latency 160
    rec(50, [250, 300, 350], 5, { inputTokens: 20 }), // TTFT 200, ITL 25, latency 300
    rec(60, [], null, { inputTokens: 30, error: { code: 499, type: 'RequestCancellationError', message: 'cancelled' } }),
    rec(70, [], null, { inputTokens: 40 }), // succeeded with no token response
    rec(-1000, [-900, -800], 2, { phase: 'warmup' }),
  ];

  it('computes run-level figures from records by hand', () => {
    const r = computeRunMetrics(records);
    // Duration: first send (0 ms) to last token (350 ms) over requests with tokens.
    expect(r.scalars.benchmarkDurationS).toBeCloseTo(0.35, 15);
    expect(r.scalars.requestCount).toBe(2);
    expect(r.scalars.errorCount).toBe(1);
    // GenAI-Perf counts every successful request in request throughput, even one with no tokens.
    expect(r.scalars.requestThroughputPerS).toBeCloseTo(3 / 0.35, 12);
    expect(r.scalars.outputTokenThroughputPerS).toBeCloseTo(9 / 0.35, 12);
    expect(r.scalars.totalOsl).toBe(9);
    expect(r.scalars.totalIsl).toBe(30);
    expect(r.scalars.goodputPerS).toBeUndefined();
    const d = r.distributions;
    expect(d.ttftMs).toMatchObject({ count: 2, avg: 150, min: 100, max: 200, p50: 150, std: 50 });
    expect(d.itlMs!.avg).toBeCloseTo(22.5, 12);
    expect(d.tpsPerUser!.avg).toBeCloseTo(45, 12); // mean of 50 and 40: per-request weighting
    expect(d.requestLatencyMs).toMatchObject({ min: 160, max: 300 });
    expect(d.ttstMs).toMatchObject({ min: 20, max: 50 });
    // ICL pools every chunk gap: [20, 20, 20, 50, 50].
    expect(d.iclMs).toMatchObject({ count: 5, avg: 32, p50: 20, p75: 50 });
    expect(d.isl).toMatchObject({ count: 2, avg: 15 });
  });

  it('counts a request as good only when it meets every SLO', () => {
    const byTtft = computeRunMetrics(records, { slos: parseSlos('time_to_first_token:150') });
    expect(byTtft.scalars.goodRequestCount).toBe(1);
    expect(byTtft.scalars.goodputPerS).toBeCloseTo(1 / 0.35, 12);
    const both = computeRunMetrics(records, { slos: parseSlos('time_to_first_token:250 output_token_throughput_per_user:45') });
    expect(both.scalars.goodRequestCount).toBe(1); // B has TTFT 200 but only 40 tokens/s/user
    const none = computeRunMetrics(records, { slos: { itlMs: 10 } });
    expect(none.scalars.goodRequestCount).toBe(0);
    expect(none.scalars.goodputPerS).toBe(0);
  });

  it('omits streaming-only metrics for a non-streaming run', () => {
    const r = computeRunMetrics(records, { streaming: false });
    expect(r.distributions.ttftMs).toBeUndefined();
    expect(r.distributions.itlMs).toBeUndefined();
    expect(r.distributions.iclMs).toBeUndefined();
    expect(r.distributions.requestLatencyMs?.count).toBe(2);
  });

  it('reports only counts when no request produced a token', () => {
    const r = computeRunMetrics([records[2]!, records[3]!]);
    expect(r.scalars).toEqual({ requestCount: 0, errorCount: 1 });
    expect(r.distributions).toEqual({});
  });
});

describe('parseSlos', () => {
  it('accepts the tools’ tags and our names, in display units', () => {
    expect(parseSlos('time_to_first_token:75 inter_token_latency:19.75')).toEqual({ ttftMs: 75, itlMs: 19.75 });
    expect(parseSlos('ttftMs:10,tpsPerUser:20')).toEqual({ ttftMs: 10, tpsPerUser: 20 });
  });

  it('rejects an unknown metric or a malformed pair with a message naming it', () => {
    expect(() => parseSlos('isl:100')).toThrow(/"isl" cannot be an SLO/);
    expect(() => parseSlos('time_to_first_token=75')).toThrow(/is not an SLO/);
  });
});
