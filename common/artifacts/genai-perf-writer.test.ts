import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeGenaiPerfCsv, writeGenaiPerfJson } from './genai-perf-writer';
import { importArtifact, importArtifacts } from './import';

const COPY = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../e2e/fixtures/bench-artifacts');
const source = importArtifacts([{ name: 'profile_export.jsonl', text: readFileSync(resolve(COPY, 'aiperf/v0.1.0-dev-run1/profile_export.jsonl'), 'utf8') }]);
const metrics = source.recomputed!;
const workload = { model: 'openai/gpt-oss-20b', endpointType: 'chat', streaming: true, concurrency: 100, requestCount: 100, warmupRequestCount: 0, islMean: 550, islStddev: 0, oslMean: 250, oslStddev: 0, randomSeed: 0 };

describe('GenAI-Perf layout writer', () => {
  it('writes a *_genai_perf.json that reads back to the same numbers and workload', () => {
    const text = writeGenaiPerfJson(metrics, workload);
    const back = importArtifact({ name: 'profile_export_genai_perf.json', text });
    expect(back.kinds).toEqual(['genai-perf-json']);
    expect(back.reported!.distributions.ttftMs).toMatchObject({ avg: metrics.distributions.ttftMs!.avg, p99: metrics.distributions.ttftMs!.p99, std: metrics.distributions.ttftMs!.std });
    expect(back.reported!.scalars).toMatchObject({ requestThroughputPerS: metrics.scalars.requestThroughputPerS, requestCount: 89 });
    expect(back.workload).toMatchObject({ concurrency: 100, requestCount: 100, islMean: 550, oslMean: 250, streaming: true });
    expect(Object.keys(JSON.parse(text) as object).slice(-2)).toEqual(['telemetry_stats', 'input_config']);
  });

  it('writes a *_genai_perf.csv with GenAI-Perf’s rows, thousands separators and CRLF that reads back within 0.005', () => {
    const text = writeGenaiPerfCsv(metrics, workload);
    expect(text.split('\r\n')[0]).toBe('Metric,avg,min,max,p99,p95,p90,p75,p50,p25,p10,p5,p1');
    expect(text).toContain('"2,343.22"'); // TTFT avg
    expect(text).toContain('Request Throughput (per sec),9.55');
    const back = importArtifact({ name: 'profile_export_genai_perf.csv', text });
    expect(back.kinds).toEqual(['genai-perf-csv']);
    for (const [k, s] of Object.entries(back.reported!.distributions)) {
      const mine = metrics.distributions[k as keyof typeof metrics.distributions]!;
      for (const [stat, v] of Object.entries(s)) expect(Math.abs(v - mine[stat as keyof typeof mine]), `${k}.${stat}`).toBeLessThanOrEqual(0.005 + 1e-9);
    }
    expect(back.reported!.scalars.requestCount).toBe(89);
  });

  it('leaves out streaming-only rows for a non-streaming run', () => {
    const csv = writeGenaiPerfCsv(metrics, { ...workload, streaming: false });
    expect(csv).not.toContain('Time To First Token');
    expect(csv).toContain('Request Latency (ms)');
    expect(JSON.parse(writeGenaiPerfJson(metrics, { ...workload, streaming: false })) as object).not.toHaveProperty('inter_token_latency');
  });
});
