import { describe, expect, it } from 'vitest';
import { resolveWorkload } from '../../common/bench-rpc';
import { arrivalOffsetsS } from './arrival-schedule';
import { parseToolProgress } from './external-tool';
import { genaiPerfCsv, genaiPerfRunDirName, pyMoney } from './genai-perf-export';
import { toolArgv } from './tool-argv';

const M = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';

describe('seed preset', () => {
  it('maps onto exactly the seed genai-perf command line', () => {
    const w = resolveWorkload({ preset: 'seed', model: M });
    expect(toolArgv('genai-perf', w, 'http://127.0.0.1:8181', '/tmp/a')).toEqual([
      'profile', '-m', M, '--endpoint-type', 'chat', '--url', '127.0.0.1:8181', '--streaming',
      '--synthetic-input-tokens-mean', '3000', '--synthetic-input-tokens-stddev', '0',
      '--output-tokens-mean', '150', '--output-tokens-stddev', '0',
      '--extra-inputs', 'min_tokens:150', '--extra-inputs', 'max_tokens:150', '--extra-inputs', 'ignore_eos:true',
      '--concurrency', '10', '--request-count', '40', '--warmup-request-count', '10', '--random-seed', '123',
      '--num-dataset-entries', '100', '--tokenizer', M, '--artifact-dir', '/tmp/a',
    ]);
  });

  it('maps onto the same AIPerf command, with its arrival pattern in rate mode', () => {
    const seed = toolArgv('aiperf', resolveWorkload({ preset: 'seed', model: M }), 'http://127.0.0.1:8181', '/tmp/a');
    expect(seed).toContain('http://127.0.0.1:8181');
    expect(seed.join(' ')).toContain('--concurrency 10 --request-count 40 --warmup-request-count 10 --random-seed 123');
    const rate = toolArgv('aiperf', resolveWorkload({ model: M, requestRate: 5, arrival: 'constant', durationS: 30 }), 'http://h:1', '/tmp/a').join(' ');
    expect(rate).toContain('--request-rate 5 --arrival-pattern constant');
    expect(rate).toContain('--benchmark-duration 30');
  });

  it('names the run directory as GenAI-Perf does', () => {
    expect(genaiPerfRunDirName(resolveWorkload({ preset: 'seed', model: M }))).toBe('deepseek-ai_DeepSeek-R1-Distill-Llama-8B-openai-chat-concurrency10');
    expect(genaiPerfRunDirName(resolveWorkload({ model: 'm', requestRate: 10 }))).toBe('m-openai-chat-request_rate10.0');
  });
});

describe('workload checks', () => {
  it('refuses contradictory workloads with a message naming the fix', () => {
    expect(() => resolveWorkload({ model: M, requestCount: 5, durationS: 2 })).toThrow(/not both/);
    expect(() => resolveWorkload({ model: M, exactOutput: true })).toThrow(/set oslMean/);
    expect(() => resolveWorkload({ model: M, slos: { ttft: 5, bogus: 1 } })).toThrow(/"bogus" cannot be a goodput SLO/);
    expect(() => resolveWorkload({})).toThrow(/model/);
  });

  it('defaults a missing count as GenAI-Perf does', () => {
    expect(resolveWorkload({ model: M, concurrency: 16 }).requestCount).toBe(32);
    expect(resolveWorkload({ model: M }).requestCount).toBe(10);
  });
});

describe('artifacts and progress', () => {
  it('formats numbers like Python f"{v:,.2f}"', () => {
    expect(pyMoney(5919.156)).toBe('5,919.16');
    expect(pyMoney(1234567.8)).toBe('1,234,567.80');
    expect(pyMoney(0.004)).toBe('0.00');
    expect(genaiPerfCsv({ scalars: { requestCount: 3 }, distributions: {} }, false, false)).toBe('Metric,avg,min,max,p99,p95,p90,p75,p50,p25,p10,p5,p1\r\n\r\nMetric,Value\r\nOutput Token Throughput (tokens/sec),N/A\r\nRequest Throughput (per sec),N/A\r\nRequest Count (count),3.00\r\n');
  });

  it('reads AIPerf progress bars and ignores its record-processing bar', () => {
    expect(parseToolProgress('Profiling: 10/20 |\u001b[32m█████     \u001b[0m|  50% [00:01<00:01]')).toMatchObject({ done: 10, total: 20, warmup: false });
    expect(parseToolProgress('Warmup: 4/4 |██████████| 100%')).toMatchObject({ done: 4, total: 4, warmup: true });
    expect(parseToolProgress('Processing Records: 4/20 |██| 20%')).toMatchObject({ done: null });
    expect(parseToolProgress('   ')).toBeNull();
  });
});

describe('arrival schedules', () => {
  it('draws exponential gaps for Poisson and equal gaps for constant arrivals', () => {
    const gaps = (a: 'poisson' | 'constant') => {
      const t = arrivalOffsetsS(50, a, 5_001, 9);
      return t.slice(1).map((v, i) => v - t[i]!);
    };
    const mean = (g: number[]) => g.reduce((s, v) => s + v, 0) / g.length;
    const p = gaps('poisson');
    expect(mean(p)).toBeCloseTo(0.02, 3);
    const sd = Math.sqrt(mean(p.map((g) => (g - mean(p)) ** 2)));
    expect(sd / mean(p)).toBeGreaterThan(0.95);
    expect(sd / mean(p)).toBeLessThan(1.05);
    // Memorylessness: P(gap > 2/rate) ≈ e^-2.
    expect(p.filter((g) => g > 0.04).length / p.length).toBeCloseTo(Math.exp(-2), 1);
    expect(new Set(gaps('constant').map((g) => g.toFixed(9))).size).toBe(1);
  });
});
