import { describe, expect, it } from 'vitest';
import { classifyChange, compareGroups, compareRuns, formatPct, NOISE, RunComparison, GroupComparison, type ComparableRun } from './compare';
import type { Workload } from './run-record';

const SEED: Workload = {
  endpointType: 'chat', streaming: true, model: 'm', tokenizer: 'm', concurrency: 10, requestCount: 40, warmupRequestCount: 10,
  islMean: 3000, islStddev: 0, oslMean: 150, oslStddev: 0, randomSeed: 123,
};

interface Figures {
  tokPerS: number;
  ttftP50: number;
  ttftP99: number;
  itlP50: number;
  itlP99: number;
  requests?: number;
  errors?: number;
  isl?: number;
  osl?: number;
}

function run(id: string, mode: 'aggregated' | 'disaggregated' | null, gpuCount: number | null, f: Figures, workload: Workload = SEED, extra: Partial<ComparableRun> = {}): ComparableRun {
  return {
    id,
    label: id,
    mode,
    gpuCount,
    simulated: false,
    tool: 'builtin',
    workload,
    metrics: {
      scalars: { outputTokenThroughputPerS: f.tokPerS, requestThroughputPerS: f.tokPerS / 150, requestCount: f.requests ?? 40, errorCount: f.errors ?? 0 },
      distributions: {
        ttftMs: { avg: f.ttftP50, p50: f.ttftP50, p90: f.ttftP99, p99: f.ttftP99 },
        itlMs: { avg: f.itlP50, p50: f.itlP50, p90: f.itlP99, p99: f.itlP99 },
        isl: { avg: f.isl ?? 3000 },
        osl: { avg: f.osl ?? 150 },
      },
    },
    ...extra,
  };
}

const AGG: Figures = { tokPerS: 1000, ttftP50: 200, ttftP99: 500, itlP50: 20, itlP99: 30 };

describe('formatPct', () => {
  it('writes whole percents with a sign and a true minus, one decimal below 1 %', () => {
    expect(formatPct(34.2)).toBe('+34%');
    expect(formatPct(-41.4)).toBe('\u221241%');
    expect(formatPct(0.42)).toBe('+0.4%');
    expect(formatPct(0.01)).toBe('0%');
  });
});

describe('classifyChange', () => {
  const thr = { metric: 'outputTokenThroughputPerS', stat: 'value', unit: 'tokens/sec', better: 'higher' } as const;
  const p99 = { metric: 'ttftMs', stat: 'p99', unit: 'ms', better: 'lower' } as const;
  const p50 = { metric: 'itlMs', stat: 'p50', unit: 'ms', better: 'lower' } as const;
  it('treats throughput changes up to 5 % as noise and larger ones by direction', () => {
    expect(classifyChange(thr, 100, 105)).toBe('same');
    expect(classifyChange(thr, 100, 106)).toBe('better');
    expect(classifyChange(thr, 100, 94)).toBe('worse');
  });
  it('gives tail percentiles a 10 % band', () => {
    expect(classifyChange(p99, 100, 109)).toBe('same');
    expect(classifyChange(p99, 100, 111)).toBe('worse');
    expect(classifyChange(p99, 100, 80)).toBe('better');
  });
  it('ignores latency changes under half a millisecond however large in percent', () => {
    expect(classifyChange(p50, 1, 1.4)).toBe('same');
    expect(classifyChange(p50, 1, 1.6)).toBe('worse');
  });
  it('judges the failed-request share by percentage points', () => {
    const err = { metric: 'errorRate', stat: 'value', unit: '%', better: 'lower' } as const;
    expect(classifyChange(err, 0, 0.9)).toBe('same');
    expect(classifyChange(err, 0, 2.5)).toBe('worse');
  });
  it('has no better or worse for metrics without a direction or a missing side', () => {
    expect(classifyChange({ metric: 'isl', stat: 'avg', unit: 'tokens', better: 'neither' }, 1, 2)).toBe('n/a');
    expect(classifyChange(thr, null, 2)).toBe('n/a');
  });
});

describe('compareRuns', () => {
  it('says disaggregated is better when throughput per GPU and TTFT improve and ITL stays within noise', () => {
    // Aggregated: 1 GPU at 1000 tok/s. Disaggregated: 3 GPUs at 4020 tok/s → 1340 tok/s/GPU (+34%).
    const agg = run('agg', 'aggregated', 1, AGG);
    const dis = run('dis', 'disaggregated', 3, { tokPerS: 4020, ttftP50: 150, ttftP99: 295, itlP50: 20.6, itlP99: 30 });
    const c = RunComparison.parse(compareRuns(agg, dis));
    expect(c.workload.same).toBe(true);
    expect(c.verdict.outcome).toBe('better');
    expect(c.verdict.sentence).toBe('disaggregated: +34% output tokens/s/GPU at concurrency 10, TTFT p99 \u221241%, ITL p50 +3%, TTFT p50 \u221225% — better for this workload');
    const perGpu = c.metrics.find((m) => m.metric === 'outputTokensPerSPerGpu')!;
    expect(perGpu.a).toBe(1000);
    expect(perGpu.b).toBeCloseTo(1340, 9);
    expect(perGpu.pctChange).toBeCloseTo(34, 9);
    expect(perGpu.change).toBe('better');
    expect(c.metrics.find((m) => m.metric === 'itlMs' && m.stat === 'p50')!.change).toBe('same');
  });

  it('speaks for the disaggregated run even when it is given first, with its own percentages', () => {
    const agg = run('agg', 'aggregated', 1, AGG);
    const dis = run('dis', 'disaggregated', 2, { ...AGG, tokPerS: 1000 });
    const c = compareRuns(dis, agg);
    expect(c.verdict.subject).toBe('disaggregated');
    expect(c.verdict.swapped).toBe(true);
    // Per GPU: 500 vs 1000 → −50% for disaggregated; the table (B vs A) says aggregated is +100%.
    expect(c.verdict.sentence).toMatch(/^disaggregated: \u221250% output tokens\/s\/GPU at concurrency 10/);
    expect(c.verdict.outcome).toBe('worse');
    expect(c.metrics.find((m) => m.metric === 'outputTokensPerSPerGpu')!.pctChange).toBeCloseTo(100, 9);
  });

  it('calls a trade-off mixed and names what got better and what got worse', () => {
    const agg = run('agg', 'aggregated', 1, AGG);
    const dis = run('dis', 'disaggregated', 1, { tokPerS: 1000, ttftP50: 100, ttftP99: 250, itlP50: 26, itlP99: 40 });
    const v = compareRuns(agg, dis).verdict;
    expect(v.outcome).toBe('mixed');
    expect(v.sentence).toBe('disaggregated: +0% output tokens/s/GPU at concurrency 10, TTFT p99 \u221250%, ITL p50 +30%, TTFT p50 \u221250%, ITL p99 +33% — mixed for this workload: better TTFT p99, TTFT p50; worse ITL p50, ITL p99'.replace('+0%', '0%'));
  });

  it('finds no significant difference when every key metric moves less than its noise band', () => {
    const a = run('a', 'aggregated', 1, AGG);
    const b = run('b', 'aggregated', 1, { tokPerS: 1030, ttftP50: 205, ttftP99: 540, itlP50: 19.5, itlP99: 31 });
    const v = compareRuns(a, b).verdict;
    expect(v.outcome).toBe('no-significant-difference');
    expect(v.subject).toBe('b');
    expect(v.sentence).toBe('b: +3% output tokens/s/GPU at concurrency 10, TTFT p99 +8%, ITL p50 \u22123% — no significant difference for this workload');
  });

  it('counts more failed requests as worse even when the latencies are the same', () => {
    const a = run('a', 'aggregated', 1, AGG);
    const b = run('b', 'disaggregated', 1, { ...AGG, requests: 36, errors: 4 });
    const v = compareRuns(a, b).verdict;
    expect(v.outcome).toBe('worse');
    expect(v.sentence).toContain('failed requests 10.0% vs 0.0%');
  });

  it('refuses a verdict when the workloads differ and says exactly what differs', () => {
    const a = run('a', 'aggregated', 1, AGG);
    const b = run('b', 'disaggregated', 3, AGG, { ...SEED, islMean: 1000, concurrency: 20, randomSeed: 7 });
    const c = compareRuns(a, b);
    expect(c.workload.same).toBe(false);
    expect(c.workload.differences).toEqual([
      { field: 'concurrency', label: 'concurrency', a: 10, b: 20, blocking: true },
      { field: 'islMean', label: 'ISL mean', a: 3000, b: 1000, blocking: true },
      { field: 'randomSeed', label: 'random seed', a: 123, b: 7, blocking: false },
    ]);
    expect(c.verdict.outcome).toBe('not-comparable');
    expect(c.verdict.sentence).toBe('not comparable: the workloads differ — concurrency 10 vs 20, ISL mean 3000 vs 1000. Run both with the same workload.');
    // The deltas are still there to look at.
    expect(c.metrics.length).toBeGreaterThan(5);
  });

  it('blocks on measured output lengths that differ even when the settings match (an engine that stopped early)', () => {
    const a = run('a', 'aggregated', 1, AGG);
    const b = run('b', 'disaggregated', 1, { ...AGG, osl: 97 });
    const c = compareRuns(a, b);
    expect(c.workload.differences).toEqual([{ field: 'measured.osl', label: 'measured mean OSL', a: 150, b: 97, blocking: true }]);
    expect(c.verdict.outcome).toBe('not-comparable');
  });

  it('lists settings recorded on one side only without blocking, and caveats a different tool', () => {
    const a = run('a', null, null, AGG, { streaming: true, concurrency: 10 }, { tool: 'aiperf' });
    const b = run('b', null, null, { ...AGG, tokPerS: 1200 });
    const c = compareRuns(a, b);
    expect(c.workload.same).toBe(true);
    expect(c.workload.differences.filter((d) => d.blocking)).toEqual([]);
    expect(c.workload.differences.map((d) => d.field)).toEqual(['endpointType', 'model', 'islMean', 'islStddev', 'oslMean', 'oslStddev', 'requestCount', 'warmupRequestCount', 'randomSeed', 'tokenizer', 'tool']);
    // No GPU counts: plain tokens/s, and a note saying how to give them.
    expect(c.verdict.sentence).toBe('b: +20% output tokens/s at concurrency 10, TTFT p99 0%, ITL p50 0% — better for this workload');
    expect(c.notes[0]).toMatch(/GPU count unknown for a and b/);
  });

  it('uses request latency for non-streaming runs, which have no TTFT or ITL', () => {
    const w = { ...SEED, streaming: false };
    const mk = (id: string, lat50: number, lat99: number): ComparableRun => ({
      ...run(id, null, 1, AGG, w),
      metrics: { scalars: { outputTokenThroughputPerS: 1000, requestCount: 40, errorCount: 0 }, distributions: { requestLatencyMs: { p50: lat50, p99: lat99 } } },
    });
    const v = compareRuns(mk('a', 1000, 2000), mk('b', 800, 1500)).verdict;
    expect(v.sentence).toBe('b: 0% output tokens/s/GPU at concurrency 10, latency p99 \u221225%, latency p50 \u221220% — better for this workload');
  });

  it('labels simulated runs in the sentence', () => {
    const v = compareRuns(run('a', 'aggregated', 1, AGG, SEED, { simulated: true }), run('b', 'disaggregated', 3, { ...AGG, tokPerS: 4000 })).verdict;
    expect(v.sentence).toMatch(/— better for this workload \(simulated: mocker engine\)$/);
    expect(v.simulated).toBe(true);
  });

  it('says a run with no successful requests cannot be compared', () => {
    const v = compareRuns(run('a', 'aggregated', 1, AGG), run('b', 'disaggregated', 1, { ...AGG, requests: 0, errors: 40 })).verdict;
    expect(v.outcome).toBe('not-comparable');
    expect(v.sentence).toBe('not comparable: b has no successful requests. Run both with the same workload.');
  });
});

describe('compareGroups', () => {
  const at = (c: number, w: Workload = SEED): Workload => ({ ...w, concurrency: c });
  const sweep = (id: string, mode: 'aggregated' | 'disaggregated', gpus: number, figs: Record<number, Figures>) => ({
    id,
    label: id,
    runs: Object.entries(figs).map(([c, f]) => run(`${id}-c${c}`, mode, gpus, f, at(Number(c)), { group: id })),
  });

  it('pairs runs by concurrency and gives ranges and one outcome over the sweep', () => {
    const agg = sweep('agg', 'aggregated', 1, { 1: AGG, 4: AGG, 8: AGG });
    const dis = sweep('dis', 'disaggregated', 2, {
      1: { ...AGG, tokPerS: 2400, ttftP99: 400 },
      4: { ...AGG, tokPerS: 2600, ttftP99: 300 },
      8: { ...AGG, tokPerS: 2100 },
    });
    const c = GroupComparison.parse(compareGroups(agg, dis));
    expect(c.points.map((p) => p.loadPoint)).toEqual(['concurrency 1', 'concurrency 4', 'concurrency 8']);
    expect(c.workload.same).toBe(true);
    expect(c.verdict.outcome).toBe('better');
    expect(c.verdict.sentence).toBe('disaggregated over concurrency 1, 4, 8: output tokens/s/GPU +5%…+30%, TTFT p99 \u221240%…0%, ITL p50 0% — better for this workload (better at 1, 4; no significant difference at 8)');
  });

  it('is mixed when some points are better and others worse, and names them', () => {
    const agg = sweep('agg', 'aggregated', 1, { 1: AGG, 16: AGG });
    const dis = sweep('dis', 'disaggregated', 1, { 1: { ...AGG, tokPerS: 1300 }, 16: { ...AGG, tokPerS: 800 } });
    const v = compareGroups(agg, dis).verdict;
    expect(v.outcome).toBe('mixed');
    expect(v.sentence).toBe('disaggregated over concurrency 1, 16: output tokens/s/GPU \u221220%…+30%, TTFT p99 0%, ITL p50 0% — mixed for this workload: better output tokens/s/GPU; worse output tokens/s/GPU (better at 1; worse at 16)');
  });

  it('names the metrics that moved when every point is a trade-off, from the disaggregated side even when it is A', () => {
    const agg = sweep('agg', 'aggregated', 1, { 1: AGG, 4: AGG });
    const dis = sweep('dis', 'disaggregated', 1, { 1: { ...AGG, ttftP99: 300, itlP50: 30 }, 4: { ...AGG, ttftP99: 250, itlP50: 25 } });
    const v = compareGroups(dis, agg).verdict;
    expect(v.swapped).toBe(true);
    expect(v.outcome).toBe('mixed');
    expect(v.sentence).toBe('disaggregated over concurrency 1, 4: output tokens/s/GPU 0%, TTFT p99 \u221250%…\u221240%, ITL p50 +25%…+50% — mixed for this workload at every point: better TTFT p99; worse ITL p50');
  });

  it('notes load points run in one sweep only and compares the rest', () => {
    const agg = sweep('agg', 'aggregated', 1, { 1: AGG, 2: AGG });
    const dis = sweep('dis', 'disaggregated', 1, { 2: AGG, 4: AGG });
    const c = compareGroups(agg, dis);
    expect(c.points).toHaveLength(1);
    expect(c.unmatched).toEqual([
      { loadPoint: 'concurrency 1', side: 'a', runId: 'agg-c1' },
      { loadPoint: 'concurrency 4', side: 'b', runId: 'dis-c4' },
    ]);
    expect(c.notes).toContain('concurrency 1 was run only in agg.');
    expect(c.verdict.outcome).toBe('no-significant-difference');
  });

  it('is not comparable when no load point is shared', () => {
    const c = compareGroups(sweep('agg', 'aggregated', 1, { 1: AGG }), sweep('dis', 'disaggregated', 1, { 2: AGG }));
    expect(c.verdict.outcome).toBe('not-comparable');
    expect(c.verdict.sentence).toMatch(/^not comparable: no load point/);
  });

  it('keeps the noise thresholds documented in NOISE', () => {
    expect(NOISE).toEqual({ centralRel: 0.05, tailRel: 0.1, latencyAbsMs: 0.5, errorRateAbs: 0.01, lengthRel: 0.05 });
  });
});
