import { describe, expect, it } from 'vitest';
import { importArtifact, importArtifacts } from './import';

// A `vllm bench serve --save-result --save-detailed` result, with vLLM's own figures worked out by
// hand for these three requests (the third failed).
const VLLM = {
  date: '20250101-120000', backend: 'openai-chat', endpoint_type: 'openai-chat', model_id: 'meta-llama/Llama-3.1-8B', tokenizer_id: 'meta-llama/Llama-3.1-8B',
  num_prompts: 3, request_rate: 'inf', burstiness: 1.0, max_concurrency: 2,
  duration: 0.4, completed: 2, failed: 1, total_input_tokens: 30, total_output_tokens: 9,
  request_throughput: 5.0, request_goodput: null, output_throughput: 22.5, total_token_throughput: 97.5,
  mean_ttft_ms: 150, median_ttft_ms: 150, std_ttft_ms: 50, p99_ttft_ms: 199,
  mean_tpot_ms: 22.5, median_tpot_ms: 22.5, std_tpot_ms: 2.5, p99_tpot_ms: 24.95,
  mean_itl_ms: 32, median_itl_ms: 20, std_itl_ms: 14.696938456699067, p99_itl_ms: 50,
  mean_e2el_ms: 230, median_e2el_ms: 230, std_e2el_ms: 70, p99_e2el_ms: 298.6,
  input_lens: [10, 20, 30], output_lens: [4, 5, 0],
  ttfts: [0.1, 0.2, 0], itls: [[0.02, 0.02, 0.02], [0.05, 0.05], []],
  latencies: [0.16, 0.3, 0], start_times: [100.0, 100.1, 100.2],
  generated_texts: ['a b c d', 'e f g h i', ''], errors: ['', '', 'TimeoutError'],
};

describe('vllm bench serve import', () => {
  const run = importArtifact({ name: 'openai-chat-infqps-concurrency2-Llama-3.1-8B-20250101-120000.json', text: JSON.stringify(VLLM) });

  it('maps vLLM’s TPOT to ITL and vLLM’s per-chunk ITL to ICL', () => {
    expect(run.tool).toBe('vllm-bench');
    expect(run.reported!.distributions.itlMs).toMatchObject({ avg: 22.5, p50: 22.5, p99: 24.95 });
    expect(run.reported!.distributions.iclMs).toMatchObject({ avg: 32, p50: 20 });
    expect(run.reported!.scalars).toMatchObject({ requestCount: 2, errorCount: 1, benchmarkDurationS: 0.4, outputTokenThroughputPerS: 22.5 });
    expect(run.workload).toMatchObject({ model: 'meta-llama/Llama-3.1-8B', concurrency: 2, requestCount: 3 });
    expect(run.workload.requestRate).toBeUndefined();
  });

  it('recomputes vLLM’s figures from the per-request arrays', () => {
    expect(run.requests).toHaveLength(3);
    expect(run.comparedCount).toBeGreaterThan(20);
    expect(run.disagreements).toEqual([]);
  });
});

function sse(...events: unknown[]): string {
  return events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');
}
const delta = (content: string) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
const usage = (p: number, c: number) => ({ object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: p, completion_tokens: c } });

// perf_analyzer export of two streamed chat requests (times in ns), with GenAI-Perf's summary.
const PA = {
  experiments: [{
    experiment: { mode: 'concurrency', value: 2 },
    requests: [
      {
        timestamp: 1_000_000_000,
        request_inputs: { payload: JSON.stringify({ model: 'm', stream: true, max_tokens: 4, messages: [{ role: 'user', content: 'hello' }] }) },
        response_timestamps: [1_050_000_000, 1_100_000_000, 1_120_000_000, 1_140_000_000, 1_160_000_000, 1_161_000_000, 1_162_000_000],
        response_outputs: [
          { response: sse({ choices: [{ index: 0, delta: { role: 'assistant' } }] }) },
          { response: sse(delta('a')) },
          { response: sse(delta(' b')) },
          { response: sse(delta(' c')) },
          { response: sse(delta(' d')) },
          { response: sse(usage(12, 4)) },
          { response: sse('[DONE]') },
        ],
      },
      {
        timestamp: 1_010_000_000,
        request_inputs: { payload: JSON.stringify({ model: 'm', stream: true, max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] }) },
        response_timestamps: [1_210_000_000, 1_260_000_000, 1_270_000_000],
        response_outputs: [{ response: sse(delta('x y')) }, { response: sse(delta(' z w')) }, { response: sse(usage(8, 4), '[DONE]') }],
      },
    ],
    window_boundaries: [1_000_000_000, 2_000_000_000],
  }],
  version: '2.38.0', service_kind: 'openai', endpoint: 'v1/chat/completions',
};
// TTFT 100 and 200 ms; latency 160 and 250 ms. GenAI-Perf's tokenizer counted 5 tokens for the
// second answer where the server's usage says 4, so its ITL is (250−200)/4 = 12.5 ms, ours 50/3.
const GENAI = {
  time_to_first_token: { unit: 'ms', avg: 150, min: 100, max: 200, p50: 150, std: 50 },
  request_latency: { unit: 'ms', avg: 205, min: 160, max: 250 },
  inter_token_latency: { unit: 'ms', avg: 16.25, min: 12.5, max: 20 },
  output_sequence_length: { unit: 'tokens', avg: 4.5, min: 4, max: 5 },
  request_throughput: { unit: 'requests/sec', avg: 2 / 0.26 },
  request_count: { unit: 'count', avg: 2 },
  input_config: { model_names: ['m'], endpoint: { type: 'chat', streaming: true }, perf_analyzer: { stimulus: { concurrency: 2 } } },
};

describe('perf_analyzer profile_export.json import', () => {
  const run = importArtifacts([
    { name: 'artifacts/m-openai-chat-concurrency2/profile_export.json', text: JSON.stringify(PA) },
    { name: 'artifacts/m-openai-chat-concurrency2/profile_export_genai_perf.json', text: JSON.stringify(GENAI) },
  ]);

  it('finds token responses as GenAI-Perf does and recomputes from them', () => {
    const [a, b] = run.requests!;
    expect(a!.chunkNs).toEqual([1_100_000_000, 1_120_000_000, 1_140_000_000, 1_160_000_000]);
    expect(a!.outputTokens).toEqual({ usage: 4, chunks: 4 });
    expect(a!.inputTokens).toBe(12);
    expect(b!.lastTokenNs).toBe(1_260_000_000);
    const d = run.recomputed!.distributions;
    expect(d.ttftMs).toMatchObject({ min: 100, max: 200 });
    expect(d.requestLatencyMs).toMatchObject({ min: 160, max: 250 });
    expect(run.recomputed!.scalars.benchmarkDurationS).toBeCloseTo(0.26, 12);
    expect(run.workload).toMatchObject({ model: 'm', concurrency: 2, streaming: true, oslMean: 4 });
    expect(run.toolVersion).toBe('perf_analyzer 2.38.0');
  });

  it('lists the figures where GenAI-Perf’s tokenizer and the server’s usage disagree', () => {
    const byKey = (m: string, s: string) => run.disagreements.find((x) => x.metric === m && x.stat === s);
    expect(byKey('osl', 'max')).toMatchObject({ reported: 5, recomputed: 4, relDiff: -0.2 });
    expect(byKey('itlMs', 'min')).toMatchObject({ reported: 12.5, recomputed: expect.closeTo(50 / 3, 12) });
    expect(byKey('itlMs', 'max')).toBeUndefined();
    expect(byKey('ttftMs', 'avg')).toBeUndefined();
    expect(byKey('requestThroughputPerS', 'value')).toBeUndefined();
    expect(run.notes.join(' ')).toMatch(/OSL is the server's usage count/);
  });

  it('recomputes goodput with the SLOs written in GenAI-Perf’s input_config', () => {
    const withSlo = { ...GENAI, input_config: { ...GENAI.input_config, input: { goodput: 'time_to_first_token:150' } } };
    const r = importArtifacts([
      { name: 'profile_export.json', text: JSON.stringify(PA) },
      { name: 'profile_export_genai_perf.json', text: JSON.stringify(withSlo) },
    ]);
    expect(r.workload.goodput).toEqual({ time_to_first_token: 150 });
    expect(r.recomputed!.scalars.goodRequestCount).toBe(1);
    expect(r.recomputed!.scalars.goodputPerS).toBeCloseTo(1 / 0.26, 9);
  });
});
