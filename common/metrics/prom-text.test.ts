import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../errors';
import { histograms, parsePromText, seriesKey, sumSeries, toSeriesValues } from './prom-text';

const VLLM_LIKE = [
  '# HELP vllm:nixl_xfer_time_seconds Histogram of transfer duration for NIXL KV Cache transfers.',
  '# TYPE vllm:nixl_xfer_time_seconds histogram',
  'vllm:nixl_xfer_time_seconds_bucket{engine="0",le="0.005",model_name="m"} 3.0',
  'vllm:nixl_xfer_time_seconds_bucket{engine="0",le="0.01",model_name="m"} 4.0',
  'vllm:nixl_xfer_time_seconds_bucket{engine="0",le="+Inf",model_name="m"} 5.0',
  'vllm:nixl_xfer_time_seconds_sum{engine="0",model_name="m"} 0.125',
  'vllm:nixl_xfer_time_seconds_count{engine="0",model_name="m"} 5.0',
  '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
  '# TYPE vllm:prompt_tokens_total counter',
  'vllm:prompt_tokens_total{engine="0",model_name="m"} 1234 1700000000000',
  'vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7e9',
  '# TYPE vllm:num_requests_running gauge',
  'vllm:num_requests_running{engine="0",model_name="m"} 2',
  'vllm:num_requests_running{engine="1",model_name="m"} 3',
  '# a free comment',
  '',
].join('\r\n');

describe('parsePromText', () => {
  it('groups samples into families with their HELP and TYPE, including histogram suffixes', () => {
    const p = parsePromText(VLLM_LIKE);
    const xfer = p.families.find((f) => f.name === 'vllm:nixl_xfer_time_seconds')!;
    expect(xfer.type).toBe('histogram');
    expect(xfer.help).toBe('Histogram of transfer duration for NIXL KV Cache transfers.');
    expect(xfer.samples).toHaveLength(5);
    const [h] = histograms(xfer);
    expect(h).toEqual({
      labels: { engine: '0', model_name: 'm' },
      buckets: [{ le: 0.005, count: 3 }, { le: 0.01, count: 4 }, { le: Infinity, count: 5 }],
      sum: 0.125,
      count: 5,
    });
    const counter = p.families.find((f) => f.name === 'vllm:prompt_tokens_total')!;
    expect(counter.type).toBe('counter');
    expect(counter.samples[0]).toEqual({ name: 'vllm:prompt_tokens_total', labels: { engine: '0', model_name: 'm' }, value: 1234, timestampMs: 1700000000000 });
  });

  it('sums a metric over its label sets from the flat series map', () => {
    const values = toSeriesValues(parsePromText(VLLM_LIKE));
    expect(values['vllm:num_requests_running{engine="1",model_name="m"}']).toBe(3);
    expect(sumSeries(values, 'vllm:num_requests_running')).toBe(5);
    expect(sumSeries(values, 'vllm:num_requests')).toBeUndefined();
  });

  it('unescapes backslash, quote and newline in label values and accepts a trailing comma', () => {
    const p = parsePromText('weird{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",} 1\n');
    expect(p.samples[0]!.labels).toEqual({ path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' });
    expect(seriesKey('weird', p.samples[0]!.labels)).toBe('weird{nl="a\\nb",path="C:\\\\dir",quote="say \\"hi\\""}');
  });

  it('reads NaN, ±Inf, exponents and OpenMetrics exemplars and EOF', () => {
    const p = parsePromText('a NaN\nb +Inf\nc -Inf\nd 1.5e-3\ne_bucket{le="1"} 2 # {trace_id="x"} 0.5 1\n# EOF\n');
    expect(p.samples.map((s) => s.value)).toEqual([Number.NaN, Infinity, -Infinity, 0.0015, 2]);
  });

  it('unescapes \\\\ and \\n in HELP text', () => {
    const p = parsePromText('# HELP x line one\\nline two \\\\ done\nx 1\n');
    expect(p.families[0]!.help).toBe('line one\nline two \\ done');
  });

  it.each([
    ['foo{a="b} 1', /unterminated value of label a/],
    ['foo{a=b} 1', /expected a quoted value for label a/],
    ['foo bar', /"bar" is not a number/],
    ['foo 1 2 3', /unexpected text after the value/],
    ['foo', /no value for foo/],
    ['{a="b"} 1', /expected a metric name/],
    ['foo{a="x\\q"} 1', /bad escape/],
    ['foo{a="1",a="2"} 1', /label a appears twice/],
    ['# TYPE foo sideways', /unknown metric type "sideways"/],
    ['foo 1 notatime', /"notatime" is not a timestamp/],
  ])('rejects %j with a message naming the line', (line, why) => {
    let err: unknown;
    try {
      parsePromText(`ok 1\n${line}\n`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserFacingError);
    expect((err as UserFacingError).code).toBe('prom-parse');
    expect((err as Error).message).toMatch(/line 2/);
    expect((err as Error).message).toMatch(why);
  });
});
