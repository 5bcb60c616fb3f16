import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMocker, type RunningMocker } from './mocker';

/**
 * Behaviours where the real vLLM 0.32 CPU build (served on a tiny local Llama, see
 * docs/real-vllm.md) contradicted the mocker; each expectation is what the real server answered.
 */

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const quiet = (): void => undefined;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    found = (found ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found;
}

describe('mocker answers like the real vLLM 0.32', () => {
  let m: RunningMocker;
  beforeAll(async () => {
    m = await startMocker({ argv: [MODEL, '--port', '0', '--max-model-len', '512', '--mocker-time-scale', '0'], logLine: quiet });
  });
  afterAll(async () => m?.close());

  it('names responses cmpl-/chatcmpl- plus 16 hex digits, like vLLM’s random_uuid()', async () => {
    const c = await post(`${m.url}/v1/completions`, { prompt: 'hello', max_tokens: 1 });
    expect(c.json['id']).toMatch(/^cmpl-[0-9a-f]{16}$/);
    const chat = await post(`${m.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
    expect(chat.json['id']).toMatch(/^chatcmpl-[0-9a-f]{16}$/);
  });

  it('stamps system_fingerprint on the finishing stream chunk when no usage chunk follows, and only on the usage chunk when one does', async () => {
    for (const path of ['/v1/completions', '/v1/chat/completions']) {
      const body = path.endsWith('chat/completions') ? { messages: [{ role: 'user', content: 'hi' }] } : { prompt: 'hi' };
      const chunks = async (extra: Record<string, unknown>) => {
        const r = await fetch(`${m.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, max_tokens: 3, stream: true, ...extra }) });
        return (await r.text())
          .split('\n\n')
          .filter((e) => e.startsWith('data: {'))
          .map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
      };
      const plain = await chunks({});
      expect(plain.at(-1)!['system_fingerprint'], path).toMatch(/^vllm-/);
      expect(plain.slice(0, -1).every((c) => !('system_fingerprint' in c)), path).toBe(true);
      const withUsage = await chunks({ stream_options: { include_usage: true } });
      expect(withUsage.at(-2)!['system_fingerprint'], path).toBeUndefined();
      expect(withUsage.at(-1)!['system_fingerprint'], path).toMatch(/^vllm-/);
    }
  });

  it('answers an unknown route and a wrong method with FastAPI’s own {"detail": …} bodies', async () => {
    const nope = await fetch(`${m.url}/v1/nothing`);
    expect(nope.status).toBe(404);
    expect(await nope.json()).toEqual({ detail: 'Not Found' });
    const get = await fetch(`${m.url}/v1/completions`);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  it('reports a missing prompt and stream_options without stream as plain BadRequestErrors naming the parameter', async () => {
    const missing = await post(`${m.url}/v1/completions`, { model: MODEL });
    expect(missing).toEqual({
      status: 400,
      json: { error: { message: 'Either prompt or prompt_embeds must be provided and non-empty. (parameter=prompt)', type: 'BadRequestError', param: 'prompt', code: 400 } },
    });
    const opts = await post(`${m.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'x' }], max_tokens: 2, stream_options: { include_usage: true } });
    expect(opts.json).toEqual({ error: { message: 'Stream options can only be defined when `stream=True`. (parameter=stream_options)', type: 'BadRequestError', param: 'stream_options', code: 400 } });
  });

  it('appends "(parameter=max_tokens, value=N)" to max_tokens errors, as VLLMValidationError does', async () => {
    const neg = await post(`${m.url}/v1/completions`, { prompt: 'x', max_tokens: -1 });
    expect(neg.json).toEqual({ error: { message: 'max_tokens must be at least 1, got -1. (parameter=max_tokens, value=-1)', type: 'BadRequestError', param: 'max_tokens', code: 400 } });
    const big = await post(`${m.url}/v1/completions`, { prompt: 'x', max_tokens: 600 });
    expect(big.json).toEqual({
      error: { message: 'max_tokens=600 cannot be greater than max_model_len=512. Please request fewer output tokens. (parameter=max_tokens, value=600)', type: 'BadRequestError', param: 'max_tokens', code: 400 },
    });
  });

  it('says "at least max_model_len + 1" input tokens for a long text prompt and the exact count for token ids', async () => {
    const text = await post(`${m.url}/v1/completions`, { prompt: 'word '.repeat(600), max_tokens: 2 });
    expect(text.json).toEqual({
      error: {
        message:
          "This model's maximum context length is 512 tokens. However, your prompt contains at least 513 input tokens, which exceeds this limit even without any output tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=513)",
        type: 'BadRequestError',
        param: 'input_tokens',
        code: 400,
      },
    });
    const ids = await post(`${m.url}/v1/completions`, { prompt: Array.from({ length: 597 }, (_, i) => i + 3), max_tokens: 2 });
    expect((ids.json['error'] as { message: string }).message).toBe(
      "This model's maximum context length is 512 tokens. However, your prompt contains 597 input tokens, which exceeds this limit even without any output tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=597)",
    );
  });

  it('reports a messages field that is not a list with pydantic’s list_type wording', async () => {
    const r = await post(`${m.url}/v1/chat/completions`, { model: MODEL, messages: 'x' });
    expect(r.json).toEqual({
      error: { message: "1 validation error:\n  {'type': 'list_type', 'loc': 'body.messages', 'msg': 'Input should be a valid list', 'input': 'x'}", type: 'Bad Request', param: 'body.messages', code: 400 },
    });
  });

  it('shows the input of an unparsable body as <dict of 0 items>', async () => {
    const r = await post(`${m.url}/v1/completions`, 'not json');
    expect((r.json['error'] as { message: string }).message).toContain("'msg': 'JSON decode error', 'input': '<dict of 0 items>'");
  });

  it('exposes no vllm:nixl_* series and no vllm:prompt_tokens_recomputed without a KV connector, and counts prefix hits by tier', async () => {
    const long = 'a garden by the river '.repeat(20);
    await post(`${m.url}/v1/completions`, { prompt: long, max_tokens: 1 });
    await post(`${m.url}/v1/completions`, { prompt: long, max_tokens: 1 });
    const text = await metricsText(m.url);
    expect(text).not.toMatch(/^vllm:nixl_/m);
    expect(text).not.toContain('vllm:prompt_tokens_recomputed');
    for (const source of ['device', 'host', 'p2p', 'disk', 'external_unspecified']) expect(metric(text, 'vllm:prompt_tokens_cached_by_source_total', { source })).toBeDefined();
    expect(metric(text, 'vllm:prompt_tokens_cached_by_source_total', { source: 'device' })).toBe(metric(text, 'vllm:prefix_cache_hits_total'));
    expect(metric(text, 'vllm:prefix_cache_hits_total')).toBeGreaterThan(0);
  });
});

describe('mocker P/D accounting like the real vLLM 0.32', () => {
  let p: RunningMocker;
  let d: RunningMocker;
  const env = { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: '0' };
  const kv = (role: string) => JSON.stringify({ kv_connector: 'NixlConnector', kv_role: role, kv_load_failure_policy: 'fail' });
  const common = [MODEL, '--port', '0', '--max-model-len', '2048', '--block-size', '16', '--mocker-time-scale', '0', '--enable-prompt-tokens-details'];
  beforeAll(async () => {
    p = await startMocker({ argv: [...common, '--kv-transfer-config', kv('kv_producer')], env, logLine: quiet });
    d = await startMocker({ argv: [...common, '--kv-transfer-config', kv('kv_consumer')], env, logLine: quiet });
  });
  afterAll(async () => {
    await d?.close();
    await p?.close();
  });

  it('exposes zero-valued NIXL series on a worker with a connector before any transfer', async () => {
    const text = await metricsText(p.url);
    expect(metric(text, 'vllm:nixl_xfer_time_seconds_count')).toBe(0);
    expect(metric(text, 'vllm:nixl_bytes_transferred_sum')).toBe(0);
    expect(metric(text, 'vllm:nixl_num_failed_transfers_total')).toBe(0);
  });

  it('returns remote_prefill_cached_tokens, counts every prompt token as external on D, and reports P’s cache hits as cached_tokens', async () => {
    const prompt = 'Summarise the history of rivers and gardens in a few careful words. '.repeat(8);
    const pLeg = (id: string) =>
      post(`${p.url}/v1/completions`, { prompt, max_tokens: 1, stream: false, kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null } }, { 'X-Request-Id': id });

    const first = await pLeg('parity-1');
    const params = first.json['kv_transfer_params'] as Record<string, unknown>;
    expect(Object.keys(params)).toEqual([
      'do_remote_prefill', 'do_remote_decode', 'remote_block_ids', 'remote_engine_id', 'remote_request_id', 'remote_host', 'remote_port',
      'tp_size', 'dcp_size', 'pp_size', 'remote_num_tokens', 'remote_blocks_expiry_time', 'transfer_mode', 'remote_prefill_cached_tokens',
    ]);
    expect(params['remote_prefill_cached_tokens']).toBe(0);
    const promptTokens = (first.json['usage'] as { prompt_tokens: number }).prompt_tokens;

    const before = await metricsText(d.url);
    const dLeg = await post(`${d.url}/v1/completions`, { prompt, max_tokens: 3, kv_transfer_params: params }, { 'X-Request-Id': 'parity-1' });
    expect(dLeg.status).toBe(200);
    const after = await metricsText(d.url);
    const delta = (name: string, labels: Record<string, string> = {}) => (metric(after, name, labels) ?? 0) - (metric(before, name, labels) ?? 0);
    expect(delta('vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' })).toBe(promptTokens);
    expect(delta('vllm:prompt_tokens_by_source_total', { source: 'local_compute' })).toBe(0);
    expect(delta('vllm:prompt_tokens_cached_by_source_total', { source: 'p2p' })).toBe(promptTokens);
    expect(delta('vllm:external_prefix_cache_hits_total')).toBe(promptTokens);
    expect(after).not.toContain('vllm:prompt_tokens_recomputed');

    // The same prompt again: P serves its full blocks from its prefix cache and says so.
    const second = await pLeg('parity-2');
    const cached = (second.json['kv_transfer_params'] as Record<string, unknown>)['remote_prefill_cached_tokens'];
    expect(cached).toBe(Math.floor(promptTokens / 16) * 16 === promptTokens ? promptTokens - 16 : Math.floor(promptTokens / 16) * 16);
    const d2 = await post(`${d.url}/v1/completions`, { prompt, max_tokens: 1, kv_transfer_params: second.json['kv_transfer_params'] }, { 'X-Request-Id': 'parity-2' });
    expect((d2.json['usage'] as { prompt_tokens_details: { cached_tokens: number } }).prompt_tokens_details.cached_tokens).toBe(cached);
  });
});
