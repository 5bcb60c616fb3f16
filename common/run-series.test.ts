import { describe, expect, it } from 'vitest';
import type { MetricSample, RequestRecord } from './run-record';
import { buildRunSeries, decodeRequestColumns, kvTransferSources, packRequestColumns, PackedRunSeries, requestColumns, RunSeries, runTimeSeries } from './run-series';

const ms = 1e6;

function rec(sendMs: number, ttftMs: number, latencyMs: number, osl: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    sendNs: sendMs * ms,
    firstTokenNs: (sendMs + ttftMs) * ms,
    lastTokenNs: (sendMs + latencyMs) * ms,
    inputTokens: 3000,
    outputTokens: { usage: osl, chunks: osl },
    error: null,
    ...extra,
  };
}

describe('run series', () => {
  it('gives one column entry per profiling request in send order, without warmup', () => {
    const cols = requestColumns(
      [
        rec(2000, 50, 200, 11),
        rec(0, 10, 110, 11, { phase: 'warmup' }),
        rec(1000, 40, 140, 11),
        { ...rec(1500, 0, 0, 0), firstTokenNs: null, lastTokenNs: null, outputTokens: { usage: null, chunks: 0 }, error: { code: 500, type: null, message: 'boom' } },
      ],
      true,
    );
    expect(cols.count).toBe(3);
    expect(cols.sendS).toEqual([0, 0.5, 1]);
    expect(cols.ttftMs).toEqual([40, null, 50]);
    // ITL = (latency − TTFT) ÷ (OSL − 1)
    expect(cols.itlMs).toEqual([10, null, 15]);
    expect(cols.latencyMs).toEqual([140, null, 200]);
    expect(cols.isl).toEqual([3000, 3000, 3000]);
    expect(cols.osl).toEqual([11, null, 11]);
    expect(cols.failed).toEqual([0, 1, 0]);
  });

  it('leaves TTFT and ITL out of non-streaming runs', () => {
    const cols = requestColumns([rec(0, 100, 100, 5)], false);
    expect(cols.ttftMs).toEqual([null]);
    expect(cols.itlMs).toEqual([null]);
    expect(cols.latencyMs).toEqual([100]);
  });

  it('draws running, waiting and KV usage per worker and utilisation per GPU', () => {
    const samples: MetricSample[] = [
      { kind: 'prometheus', tMs: 2000, source: 'decode-0', values: { 'vllm:num_requests_running{engine="0"}': 3, 'vllm:num_requests_running{engine="1"}': 2, 'vllm:num_requests_waiting': 1, 'vllm:kv_cache_usage_perc': 0.25 } },
      { kind: 'prometheus', tMs: 1000, source: 'decode-0', values: { 'vllm:num_requests_running': 1, 'vllm:num_requests_waiting': 0, 'vllm:kv_cache_usage_perc': 0.1 } },
      { kind: 'prometheus', tMs: 1000, source: 'router', values: { handoff_router_outstanding_requests: 4 } },
      { kind: 'gpu', tMs: 1000, host: 'gpu1', gpus: [{ index: 0, utilizationPct: 90, memoryUsedMiB: 1, memoryTotalMiB: 2 }, { index: 1, utilizationPct: null, memoryUsedMiB: 1, memoryTotalMiB: 2 }] },
    ];
    const ts = runTimeSeries(samples);
    expect(ts.map((t) => t.id)).toEqual(['queue', 'kv-cache', 'gpu-util']);
    const queue = ts[0]!.lines;
    expect(queue.map((l) => l.label)).toEqual(['decode-0 running', 'decode-0 waiting']);
    expect(queue[0]).toEqual({ label: 'decode-0 running', tS: [1, 2], v: [1, 5] });
    expect(ts[1]!.lines[0]).toEqual({ label: 'decode-0', tS: [1, 2], v: [10, 25] });
    expect(ts[2]!.lines).toEqual([{ label: 'GPU 0', tS: [1], v: [90] }]);
  });

  it('turns the agent summary of KV transfers into milliseconds per block and skips entries it cannot read', () => {
    const kv = kvTransferSources([
      { source: 'decode-0', bytesPerBlock: 2 ** 21, run: { perBlockS: 6e-6, blocks: 1000, xferTimeS: 0.006, bytes: 1, fromMs: 0, toMs: 5000 }, intervals: [{ perBlockS: 5e-6, blocks: 400, xferTimeS: 0.002, bytes: 1, fromMs: 0, toMs: 1000 }], stats: null },
      { source: 'broken' },
    ]);
    expect(kv).toHaveLength(1);
    expect(kv[0]!.runMsPerBlock).toBeCloseTo(0.006, 12);
    expect(kv[0]!.intervals).toEqual([{ tS: 1, msPerBlock: 0.005, blocks: 400 }]);
  });

  it('builds a result its own schema accepts, with no request columns for a summary-only run', () => {
    const s = buildRunSeries({ runId: 'r1', streaming: true, records: null, samples: [], summaryKvTransfer: [] });
    expect(RunSeries.parse(s)).toEqual({ runId: 'r1', streaming: true, requests: null, timeSeries: [], kvTransfer: [], fabric: null });
    const t = buildRunSeries({ runId: 'r2', streaming: true, records: [rec(0, 10, 20, 3)], samples: [], summaryKvTransfer: [], fabric: { msPerBlock: 0.0056, source: 'mocker model' } });
    expect(RunSeries.parse(t).requests?.count).toBe(1);
  });

  it('packs 100,000 requests into float32 columns that decode to the same values within float32 precision, NaN where none', () => {
    const recs = Array.from({ length: 100_000 }, (_, i) => rec(i * 10, 100 + (i % 977) / 7, 2000 + (i % 331), 150));
    const packed = packRequestColumns(requestColumns(recs, true));
    expect(JSON.stringify(packed).length).toBeLessThan(7 * 540_000);
    const d = decodeRequestColumns(PackedRunSeries.shape.requests.unwrap().parse(packed));
    expect(d.ttftMs.length).toBe(100_000);
    for (const i of [0, 1, 4242, 99_999]) {
      expect(d.ttftMs[i]).toBeCloseTo(100 + (i % 977) / 7, 3);
      expect(d.sendS[i]).toBeCloseTo(i / 100, 2);
    }
    const withGap = decodeRequestColumns(packRequestColumns(requestColumns([rec(0, 10, 20, 3), { ...rec(1, 0, 0, 0), firstTokenNs: null, lastTokenNs: null, error: { code: 500, type: null, message: 'x' } }], true)));
    expect(Array.from(withGap.ttftMs)).toEqual([10, NaN]);
    expect(Array.from(withGap.failed)).toEqual([0, 1]);
  });

  it('refuses a packed column whose length does not match the request count, saying what to do', () => {
    const c = packRequestColumns(requestColumns([rec(0, 10, 20, 3), rec(5, 10, 20, 3)], true));
    expect(() => decodeRequestColumns({ ...c, count: 3 })).toThrow(/holds 2 values, not 3\. Reload the run/);
    expect(PackedRunSeries.shape.requests.unwrap().safeParse({ ...c, columns: { ...c.columns, isl: 'not base64!' } }).success).toBe(false);
  });
});
