import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMocker, type RunningMocker } from '../agents/mocker/mocker';
import { eventually, metricValue, parsePrometheus, postJson, sseData } from './mocker-harness';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const quiet = (): void => undefined;

describe('mocker HTTP API (vLLM 0.32 shapes)', () => {
  let m: RunningMocker;
  beforeAll(async () => {
    m = await startMocker({ argv: [MODEL, '--port', '0', '--max-model-len', '2048', '--mocker-time-scale', '0', '--mocker-seed', '7'], logLine: quiet });
  });
  afterAll(async () => m?.close());

  it('answers a non-streaming completion with every field vLLM serialises', async () => {
    const r = await postJson(`${m.url}/v1/completions`, { model: MODEL, prompt: 'Hello there, how are you today?', max_tokens: 5 });
    expect(r.status).toBe(200);
    const body = r.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['id', 'object', 'created', 'model', 'choices', 'service_tier', 'system_fingerprint', 'usage', 'kv_transfer_params', 'ec_transfer_params', 'metrics']);
    expect(body['object']).toBe('text_completion');
    expect(String(body['id'])).toMatch(/^cmpl-/);
    expect(String(body['system_fingerprint'])).toContain('simulated');
    const choice = (body['choices'] as Record<string, unknown>[])[0]!;
    expect(Object.keys(choice)).toEqual(['index', 'text', 'logprobs', 'finish_reason', 'stop_reason', 'token_ids', 'prompt_logprobs', 'prompt_token_ids', 'routed_experts']);
    expect(choice['finish_reason']).toBe('length');
    const usage = body['usage'] as Record<string, number>;
    expect(usage['completion_tokens']).toBe(5);
    expect(usage['total_tokens']).toBe(usage['prompt_tokens']! + 5);
    expect(r.headers.get('x-handoff-mocker')).toBe('simulated');
  });

  it('counts prompt tokens the same way /tokenize does, and /detokenize inverts it', async () => {
    const prompt = 'The quick brown fox, 42 times!';
    const tok = (await postJson(`${m.url}/tokenize`, { prompt })).json as { count: number; tokens: number[]; max_model_len: number };
    expect(tok.max_model_len).toBe(2048);
    const comp = (await postJson(`${m.url}/v1/completions`, { prompt, max_tokens: 1 })).json as { usage: { prompt_tokens: number } };
    expect(comp.usage.prompt_tokens).toBe(tok.count);
    const detok = (await postJson(`${m.url}/detokenize`, { tokens: tok.tokens })).json as { prompt: string };
    expect(detok.prompt).toBe(prompt);
    const chatTok = (await postJson(`${m.url}/tokenize`, { messages: [{ role: 'user', content: prompt }] })).json as { count: number };
    const chat = (await postJson(`${m.url}/v1/chat/completions`, { messages: [{ role: 'user', content: prompt }], max_tokens: 1 })).json as { usage: { prompt_tokens: number } };
    expect(chat.usage.prompt_tokens).toBe(chatTok.count);
  });

  it('streams completion chunks, then the usage chunk, then [DONE]', async () => {
    const r = await postJson(`${m.url}/v1/completions`, { prompt: 'Count with me', max_tokens: 4, stream: true, stream_options: { include_usage: true } }, { 'X-Request-Id': 'req-abc' });
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = sseData(r.text);
    expect(events[events.length - 1]).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(chunks).toHaveLength(5);
    for (const c of chunks.slice(0, 4)) {
      expect(c['id']).toBe('cmpl-req-abc');
      expect(Object.keys(c)).toEqual(['id', 'object', 'created', 'model', 'choices']);
      expect(Object.keys((c['choices'] as object[])[0]!)).toEqual(['index', 'text', 'logprobs', 'finish_reason', 'stop_reason', 'prompt_token_ids', 'token_ids']);
    }
    expect(((chunks[3]!['choices'] as Record<string, unknown>[])[0]!)['finish_reason']).toBe('length');
    const usageChunk = chunks[4]!;
    expect(usageChunk['choices']).toEqual([]);
    expect(Object.keys(usageChunk['usage'] as object)).toEqual(['prompt_tokens', 'total_tokens', 'completion_tokens']);
    expect((usageChunk['usage'] as { completion_tokens: number }).completion_tokens).toBe(4);
  });

  it('streams chat with the role chunk first and continuous usage when asked', async () => {
    const r = await postJson(`${m.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    const events = sseData(r.text);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
    const first = chunks[0]!;
    expect(Object.keys(first)).toEqual(['id', 'object', 'created', 'model', 'choices', 'usage', 'prompt_token_ids', 'prompt_text']);
    expect((first['choices'] as { delta: unknown }[])[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.slice(1, 4);
    expect(content.every((c) => c['object'] === 'chat.completion.chunk' && c['usage'] !== undefined)).toBe(true);
    expect(((content[2]!['choices'] as Record<string, unknown>[])[0]!)['finish_reason']).toBe('length');
    expect(chunks[4]!['choices']).toEqual([]);
  });

  it('honours stop strings, min_tokens, ignore_eos and accepts the toy proxy\'s nulls and "Bearer None"', async () => {
    const base = (await postJson(`${m.url}/v1/completions`, { prompt: 'Stop test', max_tokens: 8 })).json as { choices: { text: string }[] };
    const words = base.choices[0]!.text.split(' ');
    const stopWord = ' ' + words[3]!;
    const stopped = (await postJson(`${m.url}/v1/completions`, { prompt: 'Stop test', max_tokens: 8, stop: [stopWord] })).json as { choices: { text: string; finish_reason: string; stop_reason: string }[] };
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.stop_reason).toBe(stopWord);
    expect(stopped.choices[0]!.text).toBe(words.slice(0, 3).join(' '));
    const nulls = await postJson(
      `${m.url}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'x' }], max_tokens: 2, min_tokens: null, min_completion_tokens: null, ignore_eos: true },
      { Authorization: 'Bearer None' },
    );
    expect(nulls.status).toBe(200);
    const bad = await postJson(`${m.url}/v1/completions`, { prompt: 'x', max_tokens: 2, min_tokens: 5 });
    expect(bad.status).toBe(400);
  });

  it('answers bad input with vLLM error JSON', async () => {
    const badJson = await postJson(`${m.url}/v1/completions`, '{"prompt": ');
    expect(badJson.status).toBe(400);
    expect(badJson.json).toMatchObject({ error: { type: 'Bad Request', code: 400 } });
    expect((badJson.json as { error: { message: string } }).error.message).toContain('json_invalid');

    const notJson = await fetch(`${m.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toContain('Unsupported Media Type');

    const unknown = await postJson(`${m.url}/v1/completions`, { model: 'no-such-model', prompt: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: { message: `The model \`no-such-model\` does not exist. Valid aliases: ${MODEL}.`, type: 'NotFoundError', param: 'model', code: 404 } });

    const long = await postJson(`${m.url}/v1/completions`, { prompt: Array.from({ length: 2100 }, (_, i) => i + 10), max_tokens: 1 });
    expect(long.status).toBe(400);
    expect(long.json).toMatchObject({ error: { type: 'BadRequestError', param: 'input_tokens', code: 400 } });
    expect((long.json as { error: { message: string } }).error.message).toContain("This model's maximum context length is 2048 tokens");

    const tooMany = await postJson(`${m.url}/v1/completions`, { prompt: 'x', max_tokens: 4096 });
    expect(tooMany.json).toMatchObject({ error: { param: 'max_tokens', code: 400 } });

    const missing = await postJson(`${m.url}/v1/chat/completions`, { model: MODEL });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ error: { type: 'Bad Request', param: 'body.messages' } });

    const streamOpts = await postJson(`${m.url}/v1/completions`, { prompt: 'x', stream_options: { include_usage: true } });
    expect(streamOpts.json).toMatchObject({ error: { param: 'stream_options', code: 400 } });

    const nope = await fetch(`${m.url}/v1/nothing`);
    expect(nope.status).toBe(404);
    // Unknown routes get FastAPI's default body, as the real vLLM 0.32 server answers.
    expect(await nope.json()).toEqual({ detail: 'Not Found' });
  });

  it('says it is simulated in /version, /v1/models and /metrics without breaking their shapes', async () => {
    expect((await fetch(`${m.url}/health`)).status).toBe(200);
    expect((await fetch(`${m.url}/ping`, { method: 'POST' })).status).toBe(200);
    const version = (await (await fetch(`${m.url}/version`)).json()) as { version: string };
    expect(version.version).toMatch(/^0\.32\.0\+handoff\.mocker/);
    const models = (await (await fetch(`${m.url}/v1/models`)).json()) as { object: string; data: { id: string; root: string; owned_by: string; max_model_len: number }[] };
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({ id: MODEL, root: MODEL, max_model_len: 2048 });
    expect(models.data[0]!.owned_by).toContain('simulated');
    expect(await metricValue(m.url, 'handoff_mocker_info', { simulated: 'true' })).toBe(1);
  });

  it('exposes metrics that parse, with vLLM names and buckets, and counters that move', async () => {
    const before = await metricValue(m.url, 'vllm:generation_tokens_total');
    const reqsBefore = await metricValue(m.url, 'vllm:request_success_total', { finished_reason: 'length' });
    await postJson(`${m.url}/v1/completions`, { prompt: 'metrics please', max_tokens: 6 });
    const text = await (await fetch(`${m.url}/metrics`)).text();
    const { samples, types } = parsePrometheus(text);
    expect(types.get('vllm:time_to_first_token_seconds')).toBe('histogram');
    expect(types.get('vllm:prompt_tokens_by_source_total')).toBe('counter');
    const ttftBuckets = samples.filter((s) => s.name === 'vllm:time_to_first_token_seconds_bucket').map((s) => s.labels['le']);
    expect(ttftBuckets).toEqual(['0.001', '0.005', '0.01', '0.02', '0.04', '0.06', '0.08', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '20', '40', '80', '160', '640', '2560', '+Inf']);
    for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total']) {
      expect(samples.some((s) => s.name === name && s.labels['model_name'] === MODEL && s.labels['engine'] === '0')).toBe(true);
    }
    for (const h of ['vllm:inter_token_latency_seconds', 'vllm:e2e_request_latency_seconds', 'vllm:request_queue_time_seconds', 'vllm:request_prefill_time_seconds', 'vllm:request_decode_time_seconds']) {
      expect(types.get(h)).toBe('histogram');
    }
    // Like vLLM, no vllm:nixl_* series without a KV connector.
    expect(samples.some((s) => s.name.startsWith('vllm:nixl_'))).toBe(false);
    expect((await metricValue(m.url, 'vllm:generation_tokens_total')) - before).toBe(6);
    expect((await metricValue(m.url, 'vllm:request_success_total', { finished_reason: 'length' })) - reqsBefore).toBe(1);
    // The same prompt again hits the prefix cache for its full blocks.
    const hitsBefore = await metricValue(m.url, 'vllm:prefix_cache_hits_total');
    const long = 'a garden by the river '.repeat(20);
    await postJson(`${m.url}/v1/completions`, { prompt: long, max_tokens: 1 });
    await postJson(`${m.url}/v1/completions`, { prompt: long, max_tokens: 1 });
    expect(await metricValue(m.url, 'vllm:prefix_cache_hits_total')).toBeGreaterThan(hitsBefore);
  });
});

describe('mocker determinism', () => {
  it('gives identical outputs for the same --mocker-seed and different ones for another seed', async () => {
    const run = async (seed: string): Promise<string[]> => {
      const m = await startMocker({ argv: [MODEL, '--port', '0', '--max-model-len', '2048', '--mocker-time-scale', '0', '--mocker-seed', seed, '--mocker-eos-probability', '0.1'], logLine: quiet });
      try {
        const out: string[] = [];
        for (const prompt of ['one', 'two prompts', 'three little prompts']) {
          const r = (await postJson(`${m.url}/v1/completions`, { prompt, max_tokens: 30 })).json as { id: string; choices: { text: string; finish_reason: string }[]; usage: unknown };
          out.push(JSON.stringify([r.id, r.choices, r.usage]));
        }
        const chat = await postJson(`${m.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hello' }], max_tokens: 12, stream: true });
        out.push(sseData(chat.text).map((d) => d.replace(/"created":\d+,/, '')).join('\n'));
        return out;
      } finally {
        await m.close();
      }
    };
    const a = await run('11');
    const b = await run('11');
    const c = await run('12');
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});

describe('mocker KV pool', () => {
  it('queues a request while the KV pool is full and runs it once blocks free up', async () => {
    // 8 blocks of 16 tokens; each ~100-token prompt needs 7 blocks, so the second must wait.
    const m = await startMocker({
      argv: [MODEL, '--port', '0', '--max-model-len', '128', '--num-gpu-blocks-override', '8', '--mocker-decode-base-ms', '20', '--mocker-prefill-tokens-per-s', '100000'],
      logLine: quiet,
    });
    try {
      const prompt = Array.from({ length: 100 }, (_, i) => 300 + i);
      const order: string[] = [];
      const one = async (name: string): Promise<void> => {
        const r = await fetch(`${m.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: prompt.map((t) => t + (name === 'a' ? 0 : 1000)), max_tokens: 8, stream: true }) });
        const reader = r.body!.getReader();
        let first = true;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (first && value.length) {
            order.push(`${name}:first`);
            first = false;
          }
        }
        order.push(`${name}:done`);
      };
      const a = one('a');
      await new Promise((r) => setTimeout(r, 10));
      const b = one('b');
      let sawWaiting = false;
      const poll = (async () => {
        while (!order.includes('b:done')) {
          if ((await metricValue(m.url, 'vllm:num_requests_waiting')) >= 1) sawWaiting = true;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await Promise.all([a, b, poll]);
      expect(order.indexOf('b:first')).toBeGreaterThan(order.indexOf('a:done'));
      expect(sawWaiting).toBe(true);
      expect(await metricValue(m.url, 'vllm:kv_cache_usage_perc')).toBe(0);
    } finally {
      await m.close();
    }
  });
});

describe('mocker robustness', () => {
  it('aborts a stream whose client went away and frees its blocks', async () => {
    const m = await startMocker({ argv: [MODEL, '--port', '0', '--max-model-len', '2048', '--mocker-decode-base-ms', '20'], logLine: quiet });
    try {
      const ctl = new AbortController();
      const r = await fetch(`${m.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'go on and on', max_tokens: 1000, stream: true }), signal: ctl.signal });
      const reader = r.body!.getReader();
      await reader.read();
      expect(await metricValue(m.url, 'vllm:num_requests_running')).toBe(1);
      ctl.abort();
      await eventually(async () => (await metricValue(m.url, 'vllm:request_success_total', { finished_reason: 'abort' })) === 1, 'the abort to be counted');
      expect(await metricValue(m.url, 'vllm:num_requests_running')).toBe(0);
      expect(await metricValue(m.url, 'vllm:kv_cache_usage_perc')).toBe(0);
    } finally {
      await m.close();
    }
  });

  it('refuses impossible or malformed configurations with messages that say what to change', async () => {
    const start = (argv: string[]): Promise<unknown> => startMocker({ argv: [...argv, '--port', '0'], logLine: quiet });
    await expect(start([MODEL, '--mocker-gpu', 'Z80'])).rejects.toThrow(/Unknown --mocker-gpu "Z80". Known: H100-80GB/);
    await expect(start(['meta-llama/Llama-3.1-70B-Instruct', '--mocker-gpu', 'L4-24GB'])).rejects.toThrow(/Try increasing --gpu-memory-utilization or --tensor-parallel-size/);
    await expect(start([MODEL, '--gpu-memory-utilization', '0.3'])).rejects.toThrow(/estimated maximum model length is \d+/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mocker-cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'profile.json'), '{"prefillTokensPerS": "fast"}');
      await expect(start([MODEL, '--max-model-len', '1024', '--mocker-profile', path.join(dir, 'profile.json')])).rejects.toThrow(/prefillTokensPerS/);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 64, intermediate_size: 128, vocab_size: 32000, max_position_embeddings: 512 }));
      const m = (await start([dir])) as Awaited<ReturnType<typeof startMocker>>;
      try {
        expect(m.config.model.layers).toBe(2);
        expect(m.config.maxModelLen).toBe(512);
        expect(m.config.modelSource).toBe(path.join(dir, 'config.json'));
      } finally {
        await m.close();
      }
      fs.writeFileSync(path.join(dir, 'config.json'), '{"num_attention_heads": 4}');
      await expect(start([dir])).rejects.toThrow(/num_hidden_layers/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
