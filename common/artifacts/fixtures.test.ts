import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RequestRecord } from '../run-record';
import { importArtifacts } from './import';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const COPY = join(repoRoot, 'e2e/fixtures/bench-artifacts');
const SHARED = resolve(repoRoot, '../shared/fixtures');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}
const isArtifact = (p: string) => !/README\.(txt|md)$|\.gitattributes$/.test(p);
const read = (p: string) => ({ name: relative(COPY, p), text: readFileSync(p, 'utf8') });
const fixture = (rel: string) => read(join(COPY, rel));

describe('fixtures from ../shared/fixtures', () => {
  it.each(filesUnder(COPY).filter(isArtifact).map((p) => [relative(COPY, p)]))('imports %s on its own', (rel) => {
    const r = importArtifacts([fixture(rel)]);
    expect(r.reported ?? r.requests).toBeTruthy();
  });

  it.runIf(existsSync(SHARED))('has copies identical to ../shared/fixtures, and every shared file imports', () => {
    for (const p of filesUnder(SHARED)) {
      const rel = relative(SHARED, p);
      expect(readFileSync(join(COPY, rel)).equals(readFileSync(p)), rel).toBe(true);
      if (isArtifact(p)) expect(() => importArtifacts([{ name: rel, text: readFileSync(p, 'utf8') }]), rel).not.toThrow();
    }
  });
});

describe('AIPerf v0.1.0-dev-run1 (pre-release jsonl + CSV)', () => {
  const dir = 'aiperf/v0.1.0-dev-run1';
  const run = importArtifacts([fixture(`${dir}/profile_export.jsonl`), fixture(`${dir}/profile_export_aiperf.csv`)]);

  it('recomputes every figure of the CSV from the jsonl records within the CSV’s printed precision', () => {
    // Tolerance: the CSV prints {:.2f}, so a figure agrees when |recomputed − printed| ≤ 0.005
    // (half a unit in the last place) + 1e-6 relative (float noise in 19-digit ns timestamps).
    // 10 metric rows × 12 statistics + 11 run totals = 131 figures.
    expect(run.comparedCount).toBe(131);
    expect(run.disagreements).toEqual([]);
    expect(run.schemas).toEqual(['aiperf-jsonl pre-release (timestamp_ns, credit_phase, ttft/ttst)', 'aiperf-csv pre-release (no p10)']);
  });

  it('recomputes the headline figures by hand-checkable values', () => {
    const r = run.recomputed!;
    expect(r.scalars.requestCount).toBe(89);
    expect(r.scalars.errorCount).toBe(11); // code 499 cancellations
    expect(r.scalars.benchmarkDurationS).toBeCloseTo(9.3178, 4);
    expect(r.scalars.requestThroughputPerS).toBeCloseTo(9.55, 2);
    expect(r.scalars.outputTokenThroughputPerS).toBeCloseTo(2320.72, 2);
    expect(r.distributions.ttftMs!.p50).toBeCloseTo(2369.32, 2);
    expect(r.distributions.itlMs!.avg).toBeCloseTo(27.76, 2);
    // Population std: the sample std of these latencies would be 221.47.
    expect(r.distributions.requestLatencyMs!.std).toBeCloseTo(220.22, 2);
    // Inter-chunk latency pools all 21,537 chunk gaps of the 89 requests.
    expect(r.distributions.iclMs!.count).toBe(21537);
  });

  it('keeps one valid per-request record per jsonl line', () => {
    expect(run.requests).toHaveLength(100);
    for (const rec of run.requests!) RequestRecord.parse(rec);
    const ok = run.requests!.find((r) => r.error === null)!;
    expect(ok.chunkNs!.length).toBe(ok.outputTokens.chunks);
    expect(ok.lastTokenNs! - ok.chunkNs![ok.chunkNs!.length - 1]!).toBeLessThan(1000); // ns: chunks rebuild the latency
  });
});

describe('AIPerf profile_export_aiperf.json (~Jan 2026, flat, reasoning model)', () => {
  const run = importArtifacts([fixture('aiperf/profile_export_aiperf.json')]);
  const rep = run.reported!;

  it('reads the aggregate figures as written', () => {
    expect(rep.decimals).toBeNull();
    expect(rep.distributions.ttftMs).toMatchObject({ avg: 82.84651240000001, p50: 82.04407599999999, p99: 99.64934874000001, min: 76.298484, max: 102.314205, std: 3.2542275169118984 });
    expect(rep.distributions.ttfoMs!.avg).toBe(3668.2807246999996);
    expect(rep.distributions.itlMs!.p90).toBe(18.56385501404265);
    expect(rep.distributions.tpsPerUser!.avg).toBe(55.485253498122844);
    expect(rep.distributions.osl!.avg).toBe(283.48);
    expect(rep.scalars).toMatchObject({ requestThroughputPerS: 0.19245648570156926, requestCount: 100, benchmarkDurationS: 519.597973721, totalOsl: 28348, totalIsl: 19637, outputTokenThroughputPerS: 54.55756456668085 });
    // Explicit nulls (goodput, good_request_count, error_request_count) mean "not measured".
    expect(rep.scalars.goodputPerS).toBeUndefined();
    expect(rep.scalars.errorCount).toBeUndefined();
    expect(rep.other.prefill_throughput!.unit).toBe('tokens/sec');
  });

  it('has figures consistent with AIPerf’s definitions (throughput × duration = counts)', () => {
    expect(rep.scalars.requestThroughputPerS! * rep.scalars.benchmarkDurationS!).toBeCloseTo(100, 9);
    expect(rep.scalars.outputTokenThroughputPerS! * rep.scalars.benchmarkDurationS!).toBeCloseTo(28348, 6);
  });

  it('reads the workload and redacts the echoed API key', () => {
    expect(run.workload).toMatchObject({ model: 'openai/gpt-oss-20b', endpointType: 'chat', streaming: true, concurrency: 1, requestCount: 100, warmupRequestCount: 10, islMean: 200, oslMean: 300, randomSeed: 42 });
    expect(run.startedAt).toBe('2026-01-15T06:27:34.166021');
    expect(JSON.stringify(run)).not.toContain('test_key');
    expect(run.files[0]!.text).toContain('"api_key": "[redacted]"');
    expect(run.files[0]!.text).toContain('--api-key [redacted]');
    expect(() => JSON.parse(run.files[0]!.text)).not.toThrow();
  });
});

describe('GenAI-Perf profile_export_genai_perf.json', () => {
  const run = importArtifacts([fixture('genai-perf/profile_export_genai_perf.json')]);
  const rep = run.reported!;

  it('reads the aggregate figures and the nested input_config', () => {
    expect(rep.distributions.ttftMs).toMatchObject({ avg: 1524.6265132, p99: 2342.05304546 });
    expect(rep.distributions.itlMs!.avg).toBe(7.7534012);
    expect(rep.scalars).toMatchObject({ requestCount: 35, requestThroughputPerS: 0.4701030011153585, outputTokenThroughputPerS: 12.095750218698175 });
    expect(run.workload).toMatchObject({ concurrency: 1, requestCount: 100, islMean: 150, oslMean: 300, tokenizer: 'openai/gpt-oss-20b', streaming: true });
  });

  it('confirms GenAI-Perf counts requests without answer text in request throughput only', () => {
    // Only 35 of 100 requests had answer content (gpt-oss answers mostly in reasoning, which GenAI-Perf ignores):
    // duration = ΣOSL ÷ output throughput, and request throughput × duration gives back all 100.
    const durationS = (rep.scalars.requestCount! * rep.distributions.osl!.avg!) / rep.scalars.outputTokenThroughputPerS!;
    expect(rep.scalars.requestThroughputPerS! * durationS).toBeCloseTo(100, 6);
  });
});

describe('AIPerf 2026 CSV with a sum column', () => {
  it('reads sum, the new metrics and the run totals', () => {
    const run = importArtifacts([fixture('aiperf/2026-dev-smoke-100k/profile_export_aiperf.csv')]);
    const rep = run.reported!;
    expect(run.schemas).toEqual(['aiperf-csv 2026 (sum column)']);
    expect(rep.distributions.ttftMs).toMatchObject({ avg: 11205.91, sum: 5394682734.72, p10: 595.67, std: 9827.95 });
    expect(rep.distributions.ttfoMs!.p50).toBe(9539.09);
    expect(rep.scalars).toMatchObject({ requestCount: 481414, errorCount: 18586, requestThroughputPerS: 3400.22, benchmarkDurationS: 141.58 });
    expect(rep.other['OSL Mismatch Diff %']).toMatchObject({ unit: '%', avg: -21.09 });
    expect(rep.other['Total Token Throughput']).toMatchObject({ unit: 'tokens/sec', avg: 778649.65 });
  });
});

describe('perf_analyzer profile_export.json doc example', () => {
  it('imports the timestamps-only skeleton, counting the empty request in throughput only', () => {
    const run = importArtifacts([fixture('genai-perf/perf_analyzer_profile_export_doc_example.json')]);
    expect(run.tool).toBe('genai-perf');
    expect(run.toolVersion).toBe('perf_analyzer 1.2.3');
    expect(run.workload.concurrency).toBe(4);
    const r = run.recomputed!;
    expect(r.scalars.requestCount).toBe(2);
    expect(r.scalars.benchmarkDurationS).toBeCloseTo(8e-9, 20); // first send at 1 ns, last response at 9 ns
    expect(r.scalars.requestThroughputPerS).toBeCloseTo(3 / 8e-9, 0);
    expect(r.distributions.ttftMs!.avg).toBeCloseTo(1e-6, 12); // 1 ns after each send
  });
});
