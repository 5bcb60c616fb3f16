/**
 * The router in front of real mocker processes speaking vLLM's P/D protocol: every process is a
 * separate `handoff-agent` child in its own process group, stopped after the file.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePromText } from '../common/metrics/prom-text';
import { parseRouterTraceLine, type RouterTrace } from '../common/router-trace';
import { freePort, spawnMocker, spawnRouter, type ChildHandle } from '../agents/router/test-processes';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const LONG_PROMPT = 'The lighthouse keeper counted the waves against the rocks every night. '.repeat(12);
const children: ChildHandle[] = [];
let dir = '';

async function mocker(role: 'kv_producer' | 'kv_consumer' | null, extra: string[] = []): Promise<ChildHandle> {
  const args = ['--block-size', '16', ...extra];
  const env: Record<string, string> = {};
  if (role) {
    args.push('--kv-transfer-config', JSON.stringify({ kv_connector: 'NixlConnector', kv_role: role, kv_load_failure_policy: 'fail' }));
    env.VLLM_NIXL_SIDE_CHANNEL_HOST = '127.0.0.1';
    env.VLLM_NIXL_SIDE_CHANNEL_PORT = String(await freePort());
  }
  const m = await spawnMocker(MODEL, args, 90_000, env);
  children.push(m);
  return m;
}

async function router(name: string, args: string[]): Promise<ChildHandle & { traceFile: string }> {
  const traceFile = path.join(dir, `${name}.jsonl`);
  const r = await spawnRouter(['--port', '0', '--model', MODEL, '--trace-file', traceFile, ...args], 90_000);
  children.push(r);
  return Object.assign(r, { traceFile });
}

/** Sum of a metric's series whose labels include `labels`. */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return parsePromText(text)
    .samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The trace record of `requestId`, once the router has flushed it. */
function traceOf(file: string, requestId: string): Promise<RouterTrace> {
  return until(`trace of ${requestId}`, async () => {
    if (!fs.existsSync(file)) return undefined;
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(parseRouterTraceLine)
      .find((t) => t.requestId === requestId);
  });
}

async function post(url: string, body: unknown, requestId: string): Promise<{ status: number; text: string; contentType: string | null }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}

/** Streams a request, reads `events` SSE events, then drops the connection. */
function readThenDisconnect(url: string, body: unknown, requestId: string, events: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId } }, (res) => {
      let seen = 0;
      res.on('data', (c: Buffer) => {
        seen += c.toString().split('\n\n').length - 1;
        if (seen >= events) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end(JSON.stringify(body));
  });
}

let prefill: ChildHandle;
let slowPrefill: ChildHandle;
let decode: ChildHandle;
let workerA: ChildHandle;
let workerB: ChildHandle;
let pd: ChildHandle & { traceFile: string };
let pdSlow: ChildHandle & { traceFile: string };
let agg: ChildHandle & { traceFile: string };
let noDecode: ChildHandle & { traceFile: string };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-itest-'));
  [prefill, slowPrefill, decode, workerA, workerB] = await Promise.all([
    mocker('kv_producer'),
    // ~10 s to prefill LONG_PROMPT: long enough to leave during the prefill leg.
    mocker('kv_producer', ['--mocker-prefill-tokens-per-s', '20']),
    mocker('kv_consumer'),
    mocker(null),
    mocker(null),
  ]);
  const deadPort = await freePort();
  [pd, pdSlow, agg, noDecode] = await Promise.all([
    router('pd', ['--mode', 'disaggregated', '--prefill', prefill.url, '--decode', decode.url, '--remote-prefill-min-tokens', '32']),
    router('pd-slow', ['--mode', 'disaggregated', '--prefill', slowPrefill.url, '--decode', decode.url]),
    router('agg', ['--mode', 'aggregated', '--worker', workerA.url, '--worker', workerB.url]),
    router('no-decode', ['--mode', 'disaggregated', '--prefill', prefill.url, '--decode', `http://127.0.0.1:${deadPort}`]),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('router with mocker engines', () => {
  it('streams a disaggregated chat completion with the KV cache handed from prefill to decode', async () => {
    const external = { source: 'external_kv_transfer' };
    const before = await metric(decode.url, 'vllm:prompt_tokens_by_source_total', external);
    const res = await post(`${pd.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: LONG_PROMPT }], max_tokens: 8, stream: true }, 'itest-chat-1');
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/event-stream');
    const data = sseData(res.text);
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.slice(0, -1).map((d) => JSON.parse(d).object)).toContain('chat.completion.chunk');

    const t = await traceOf(pd.traceFile, 'itest-chat-1');
    expect(t).toMatchObject({ mode: 'disaggregated', prefill: 'remote', prefillReason: 'disaggregated', prefillWorker: prefill.url, decodeWorker: decode.url, status: 'ok', outputTokens: 8 });
    expect(t.kvBlocks).toBeGreaterThan(0);
    expect(t.remoteEngineId).toEqual(expect.any(String));
    expect(t.promptTokens).toBeGreaterThan(32);
    expect(t.kvBlocks).toBe(Math.ceil(t.promptTokens! / 16));
    expect(await metric(decode.url, 'vllm:prompt_tokens_by_source_total', external)).toBeGreaterThan(before);
    expect(await metric(pd.url, 'handoff_router_kv_blocks_handed_over_total')).toBeGreaterThanOrEqual(t.kvBlocks!);
  });

  it('streams a disaggregated text completion with usage when the client asks for it', async () => {
    const before = await metric(decode.url, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' });
    const res = await post(`${pd.url}/v1/completions`, { model: MODEL, prompt: LONG_PROMPT, max_tokens: 5, stream: true, stream_options: { include_usage: true } }, 'itest-cmpl-1');
    expect(res.status).toBe(200);
    const data = sseData(res.text);
    const usage = JSON.parse(data.at(-2)!).usage;
    expect(usage.completion_tokens).toBe(5);
    const t = await traceOf(pd.traceFile, 'itest-cmpl-1');
    expect(t).toMatchObject({ prefill: 'remote', outputTokens: 5, outputTokensSource: 'usage', promptTokens: usage.prompt_tokens, status: 'ok' });
    expect(await metric(decode.url, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' })).toBeGreaterThan(before);
  });

  it('prefills a short prompt on the decode worker and counts it', async () => {
    const external = { source: 'external_kv_transfer' };
    const beforeExternal = await metric(decode.url, 'vllm:prompt_tokens_by_source_total', external);
    const beforeLocal = await metric(decode.url, 'vllm:prompt_tokens_by_source_total', { source: 'local_compute' });
    const beforePrefill = await metric(prefill.url, 'vllm:prompt_tokens_total');
    const res = await post(`${pd.url}/v1/completions`, { model: MODEL, prompt: 'Hi', max_tokens: 3 }, 'itest-short-1');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).choices[0].text).toEqual(expect.any(String));
    const t = await traceOf(pd.traceFile, 'itest-short-1');
    expect(t).toMatchObject({ prefill: 'local', prefillReason: 'short-prompt', prefillWorker: null, kvBlocks: null, status: 'ok' });
    expect(await metric(decode.url, 'vllm:prompt_tokens_by_source_total', external)).toBe(beforeExternal);
    expect(await metric(decode.url, 'vllm:prompt_tokens_by_source_total', { source: 'local_compute' })).toBeGreaterThan(beforeLocal);
    expect(await metric(prefill.url, 'vllm:prompt_tokens_total')).toBe(beforePrefill);
    expect(await metric(pd.url, 'handoff_router_prefill_total', { placement: 'local', reason: 'short-prompt' })).toBeGreaterThanOrEqual(1);
  });

  it('aborts the decode leg when the client disconnects mid-stream', async () => {
    const abortedBefore = await metric(decode.url, 'vllm:request_success_total', { finished_reason: 'abort' });
    await readThenDisconnect(`${pd.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: LONG_PROMPT }], max_tokens: 20000, stream: true }, 'itest-abort-d', 4);
    const t = await traceOf(pd.traceFile, 'itest-abort-d');
    expect(t).toMatchObject({ status: 'aborted', aborted: true, prefill: 'remote' });
    expect(t.decodeSentAtMs).not.toBeNull();
    // The decode engine stops generating: nothing left running there.
    // The decode engine saw the abort and stopped generating.
    await until('decode abort', async () => ((await metric(decode.url, 'vllm:request_success_total', { finished_reason: 'abort' })) === abortedBefore + 1 ? true : undefined));
    expect(await metric(decode.url, 'vllm:num_requests_running')).toBe(0);
  });

  it('aborts the prefill leg and sends no decode leg when the client leaves during prefill', async () => {
    const decodeBefore = await metric(decode.url, 'vllm:request_prompt_tokens_count');
    const abortedBefore = await metric(slowPrefill.url, 'vllm:request_success_total', { finished_reason: 'abort' });
    const ac = new AbortController();
    const pending = fetch(`${pdSlow.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'itest-abort-p' },
      body: JSON.stringify({ model: MODEL, prompt: LONG_PROMPT, max_tokens: 5, stream: true }),
      signal: ac.signal,
    }).catch(() => null);
    await until('prefill busy', async () => ((await metric(slowPrefill.url, 'vllm:num_requests_running')) + (await metric(slowPrefill.url, 'vllm:num_requests_waiting')) > 0 ? true : undefined));
    ac.abort();
    await pending;
    const t = await traceOf(pdSlow.traceFile, 'itest-abort-p');
    expect(t).toMatchObject({ status: 'aborted', aborted: true, httpStatus: 499, decodeSentAtMs: null, prefill: 'remote', prefillWorker: slowPrefill.url, prefillDoneAtMs: null });
    await until('prefill abort', async () => ((await metric(slowPrefill.url, 'vllm:request_success_total', { finished_reason: 'abort' })) === abortedBefore + 1 ? true : undefined));
    expect((await metric(slowPrefill.url, 'vllm:num_requests_running')) + (await metric(slowPrefill.url, 'vllm:num_requests_waiting'))).toBe(0);
    expect(await metric(decode.url, 'vllm:request_prompt_tokens_count')).toBe(decodeBefore);
  });

  it('answers a clear OpenAI error when the decode worker is down', async () => {
    const res = await post(`${noDecode.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: LONG_PROMPT }], stream: true }, 'itest-down-1');
    expect(res.status).toBe(502);
    const err = JSON.parse(res.text).error;
    expect(err).toMatchObject({ type: 'upstream_error', code: 502 });
    expect(err.message).toMatch(/^The decode leg failed: decode worker http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\), and it is the only decode worker\./);
    const health = await fetch(`${noDecode.url}/health`);
    expect(health.status).toBe(503);
    const t = await traceOf(noDecode.traceFile, 'itest-down-1');
    expect(t).toMatchObject({ status: 'error', httpStatus: 502, error: { leg: 'decode' }, prefill: 'remote' });
  });

  it('rejects malformed JSON with a 400 OpenAI error before any worker sees it', async () => {
    const before = await metric(prefill.url, 'vllm:request_prompt_tokens_count');
    const res = await post(`${pd.url}/v1/chat/completions`, '{"model": "x", "messages": [', 'itest-bad-1');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({ type: 'invalid_request_error', code: 400 });
    expect(JSON.parse(res.text).error.message).toMatch(/^The request body is not valid JSON/);
    expect(await metric(prefill.url, 'vllm:request_prompt_tokens_count')).toBe(before);
  });

  it('balances aggregated requests across two workers by outstanding requests', async () => {
    const ids = [1, 2, 3, 4, 5, 6].map((i) => `itest-agg-${i}`);
    const results = await Promise.all(ids.map((id) => post(`${agg.url}/v1/completions`, { model: MODEL, prompt: 'Tell me about lighthouses.', max_tokens: 100, stream: true }, id)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const traces = await Promise.all(ids.map((id) => traceOf(agg.traceFile, id)));
    expect(traces.filter((t) => t.decodeWorker === workerA.url)).toHaveLength(3);
    expect(traces.filter((t) => t.decodeWorker === workerB.url)).toHaveLength(3);
    expect(await metric(workerA.url, 'vllm:request_success_total')).toBe(3);
    expect(await metric(workerB.url, 'vllm:request_success_total')).toBe(3);
  });

  it('reports health and lists the served model', async () => {
    const health = await fetch(`${pd.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', mode: 'disaggregated' });
    const models = (await (await fetch(`${pd.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });
});
