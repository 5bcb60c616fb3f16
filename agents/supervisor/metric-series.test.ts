import { describe, expect, it } from 'vitest';
import { bucketQuantile, deriveSample, snapshotFromText } from './metric-series';

const vllm = (n: number, extra = '') =>
  [
    '# TYPE vllm:request_success_total counter',
    `vllm:request_success_total{engine="0",finished_reason="stop"} ${8 * n}`,
    `vllm:request_success_total{engine="0",finished_reason="length"} ${2 * n}`,
    `vllm:generation_tokens_total{engine="0"} ${150 * n}`,
    `vllm:prompt_tokens_by_source_total{engine="0",source="local_compute"} ${1000 * n}`,
    `vllm:prompt_tokens_by_source_total{engine="0",source="external_kv_transfer"} ${3000 * n}`,
    '# TYPE vllm:time_to_first_token_seconds histogram',
    'vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1"} 0',
    `vllm:time_to_first_token_seconds_bucket{engine="0",le="0.25"} ${5 * n}`,
    `vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5"} ${10 * n}`,
    `vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} ${10 * n}`,
    `vllm:time_to_first_token_seconds_sum{engine="0"} ${2.5 * n}`,
    `vllm:time_to_first_token_seconds_count{engine="0"} ${10 * n}`,
    `vllm:inter_token_latency_seconds_bucket{engine="0",le="0.01"} 0`,
    `vllm:inter_token_latency_seconds_bucket{engine="0",le="0.025"} ${100 * n}`,
    `vllm:inter_token_latency_seconds_bucket{engine="0",le="+Inf"} ${100 * n}`,
    `vllm:inter_token_latency_seconds_sum{engine="0"} ${2 * n}`,
    `vllm:inter_token_latency_seconds_count{engine="0"} ${100 * n}`,
    'vllm:kv_cache_usage_perc{engine="0"} 0.5',
    'vllm:num_requests_running{engine="0"} 4',
    'vllm:num_requests_waiting{engine="0"} 2',
    `vllm:nixl_bytes_transferred_sum{engine="0"} ${4096 * n}`,
    extra,
  ].join('\n');

describe('bucketQuantile', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    const b = [
      { le: 0.1, count: 0 },
      { le: 0.2, count: 10 },
      { le: Infinity, count: 10 },
    ];
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.15, 12);
    expect(bucketQuantile(0.99, b)).toBeCloseTo(0.199, 12);
  });

  it('answers the lower bound of +Inf like histogram_quantile, and nothing without observations', () => {
    expect(bucketQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(bucketQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeUndefined();
  });
});

describe('deriveSample', () => {
  it('gives gauges from one scrape and rates and interval percentiles from two', () => {
    const a = snapshotFromText(vllm(1), 10_000);
    expect(deriveSample(a, null)).toEqual({ requestsRunning: 4, requestsWaiting: 2, kvCacheUsagePct: 50 });
    const b = snapshotFromText(vllm(3), 12_000);
    const s = deriveSample(b, a);
    expect(s.requestsPerS).toBe(10); // 20 requests in 2 s
    expect(s.generationTokensPerS).toBe(150);
    expect(s.externalPromptTokensPerS).toBe(3000);
    expect(s.kvBytesPerS).toBe(4096);
    // 20 observations: 10 in (0.1, 0.25], 10 in (0.25, 0.5].
    expect(s.ttftP50Ms).toBeCloseTo(250, 9);
    expect(s.ttftP99Ms).toBeCloseTo(495, 9);
    expect(s.itlMeanMs).toBeCloseTo(20, 9);
    expect(s.itlP50Ms).toBeCloseTo(17.5, 9);
  });

  it('leaves out rates when counters went backwards (the process restarted)', () => {
    const a = snapshotFromText(vllm(5), 0);
    const b = snapshotFromText(vllm(1), 1000);
    const s = deriveSample(b, a);
    expect(s.requestsPerS).toBeUndefined();
    expect(s.ttftP50Ms).toBeUndefined();
    expect(s.kvCacheUsagePct).toBe(50);
  });

  it('reads the router: request rate, remote-prefill ratio, outstanding legs and its own TTFT histogram', () => {
    const router = (n: number) =>
      [
        `handoff_router_requests_total{mode="disaggregated",endpoint="chat",outcome="ok"} ${4 * n}`,
        `handoff_router_prefill_total{placement="remote",reason="default"} ${3 * n}`,
        `handoff_router_prefill_total{placement="local",reason="short_prompt"} ${1 * n}`,
        'handoff_router_outstanding_requests{worker="http://a",role="prefill"} 2',
        'handoff_router_outstanding_requests{worker="http://b",role="decode"} 3',
        `handoff_router_time_to_first_token_seconds_bucket{mode="disaggregated",le="0.1"} ${4 * n}`,
        `handoff_router_time_to_first_token_seconds_bucket{mode="disaggregated",le="+Inf"} ${4 * n}`,
        `handoff_router_time_to_first_token_seconds_sum{mode="disaggregated"} ${0.2 * n}`,
        `handoff_router_time_to_first_token_seconds_count{mode="disaggregated"} ${4 * n}`,
      ].join('\n');
    const s = deriveSample(snapshotFromText(router(2), 1000), snapshotFromText(router(1), 0));
    expect(s).toMatchObject({ requestsPerS: 4, remotePrefillRatio: 0.75, outstandingRequests: 5, ttftP50Ms: 50 });
  });

  it('throws a clear error on text that is not Prometheus format', () => {
    expect(() => snapshotFromText('vllm:num_requests_running{ 3', 0)).toThrow(/Prometheus metrics text, line 1/);
  });
});
