import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRouterTraceLine, type RouterTrace } from '../../common/router-trace';
import { startFakeVllm, type FakeVllm } from './fake-vllm';
import { createJsonLog } from './json-log';
import type { RouterOptionsInput } from './router-options';
import { startRouter, type RouterHandle } from './router-server';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(o: Parameters<typeof startFakeVllm>[0] = {}): Promise<FakeVllm> {
  const f = await startFakeVllm(o);
  cleanups.push(() => f.close());
  return f;
}

interface Started {
  router: RouterHandle;
  traceFile: string;
  /** Closes the router (flushing the trace file) and returns the trace records. */
  traces(): Promise<RouterTrace[]>;
}

async function router(o: Omit<RouterOptionsInput, 'port'>): Promise<Started> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-test-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const traceFile = path.join(dir, 'traces.jsonl');
  const r = await startRouter({ port: 0, traceFile, ...o }, createJsonLog('error', 'router', () => {}));
  cleanups.push(() => r.close());
  return {
    router: r,
    traceFile,
    async traces() {
      await r.close();
      const text = fs.readFileSync(traceFile, 'utf8');
      return text.split('\n').filter(Boolean).map(parseRouterTraceLine);
    },
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'fake-model', messages: [{ role: 'user', content: 'Tell me a story about a lighthouse.' }], ...extra });

function dataEvents(sse: string): string[] {
  return sse
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}

describe('disaggregated mode', () => {
  it('sends a one-token non-streaming prefill leg, then the original request with prefill kv_transfer_params to decode', async () => {
    const p = await fake({ name: 'engine-p' });
    const d = await fake({ name: 'engine-d' });
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const body = chat({ stream: true, max_tokens: 5, max_completion_tokens: 5, min_tokens: 2, min_completion_tokens: 2, stream_options: { include_usage: true }, temperature: 0 });
    const res = await post(`${r.url}/v1/chat/completions`, body, { 'x-request-id': 'req-abc' });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-request-id')).toBe('req-abc');
    const events = dataEvents(res.text);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.filter((e) => e.includes('"content":"t')).length).toBe(5);

    const [pReq] = await p.waitForRequests('/v1/chat/completions', 1);
    expect(pReq!.headers['x-request-id']).toBe('req-abc');
    expect(pReq!.body).toEqual({
      model: 'fake-model',
      messages: body.messages,
      temperature: 0,
      stream: false,
      max_tokens: 1,
      max_completion_tokens: 1,
      kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null },
    });

    const [dReq] = await d.waitForRequests('/v1/chat/completions', 1);
    expect(dReq!.headers['x-request-id']).toBe('req-abc');
    const { kv_transfer_params: kv, ...rest } = dReq!.body!;
    expect(rest).toEqual(body);
    expect(kv).toEqual({
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: [0, 1],
      remote_engine_id: 'engine-p',
      remote_request_id: 'chatcmpl-req-abc',
      remote_host: '127.0.0.1',
      remote_port: 5600,
      tp_size: 1,
    });

    const [t] = await traces();
    expect(t).toMatchObject({
      requestId: 'req-abc',
      mode: 'disaggregated',
      stream: true,
      prefill: 'remote',
      prefillReason: 'disaggregated',
      prefillWorker: p.url,
      decodeWorker: d.url,
      kvBlocks: 2,
      remoteEngineId: 'engine-p',
      outputTokens: 5,
      outputTokensSource: 'usage',
      status: 'ok',
      aborted: false,
    });
    expect(t!.arrivalAtMs).toBeLessThanOrEqual(t!.prefillSentAtMs!);
    expect(t!.prefillSentAtMs!).toBeLessThanOrEqual(t!.prefillDoneAtMs!);
    expect(t!.prefillDoneAtMs!).toBeLessThanOrEqual(t!.decodeSentAtMs!);
    expect(t!.decodeSentAtMs!).toBeLessThanOrEqual(t!.firstTokenAtMs!);
    expect(t!.firstTokenAtMs!).toBeLessThanOrEqual(t!.lastTokenAtMs!);
  });

  it('relays the decode worker bytes unchanged and generates a request id when the client sends none', async () => {
    const p = await fake();
    const d = await fake();
    const { router: r } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const viaRouter = await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'hello world', stream: true, max_tokens: 4 });
    const [pReq] = await p.waitForRequests('/v1/completions', 1);
    const [dReq] = await d.waitForRequests('/v1/completions', 1);
    const id = viaRouter.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(pReq!.headers['x-request-id']).toBe(id);
    expect(dReq!.headers['x-request-id']).toBe(id);
    // Same request straight to the decode worker gives the same bytes (ids come from X-Request-Id).
    const direct = await post(`${d.url}/v1/completions`, dReq!.body, { 'x-request-id': id! });
    expect(viaRouter.text).toBe(direct.text);
  });

  it('answers non-streaming completions with the decode worker JSON and counts tokens from usage', async () => {
    const p = await fake();
    const d = await fake({ promptTokens: () => 40 });
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const res = await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'hello', max_tokens: 3 });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ object: 'text_completion', usage: { completion_tokens: 3, prompt_tokens: 40 } });
    const [t] = await traces();
    expect(t).toMatchObject({ stream: false, prefill: 'remote', outputTokens: 3, promptTokens: 40, promptTokensSource: 'usage', status: 'ok' });
  });

  it('prefills short prompts on the decode worker without a prefill leg, and counts them', async () => {
    const p = await fake();
    const d = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url], remotePrefillMinTokens: 1000 });
    const res = await post(`${r.url}/v1/chat/completions`, chat({ stream: true, max_tokens: 2 }));
    expect(res.status).toBe(200);
    expect(p.requests.filter((q) => q.path.startsWith('/v1/'))).toHaveLength(0);
    const [dReq] = await d.waitForRequests('/v1/chat/completions', 1);
    expect(dReq!.body).not.toHaveProperty('kv_transfer_params');
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toContain('handoff_router_prefill_total{placement="local",reason="short-prompt"} 1');
    const [t] = await traces();
    expect(t).toMatchObject({ prefill: 'local', prefillReason: 'short-prompt', prefillWorker: null, kvBlocks: null, promptTokensSource: 'estimate' });
  });

  it('asks the decode worker /tokenize when the byte estimate cannot decide', async () => {
    const p = await fake();
    const d = await fake({ promptTokens: () => 30 });
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url], remotePrefillMinTokens: 50 });
    // 200 bytes: above the 50-token upper bound, below 8 bytes/token × 50.
    const res = await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'a'.repeat(200), max_tokens: 1 });
    expect(res.status).toBe(200);
    const [tok] = await d.waitForRequests('/tokenize', 1);
    expect(tok!.body).toEqual({ model: 'fake-model', prompt: 'a'.repeat(200) });
    const [t] = await traces();
    expect(t).toMatchObject({ prefill: 'local', prefillReason: 'short-prompt', promptTokens: 30 });
  });

  it('sends long prompts to the prefill worker when a threshold is set', async () => {
    const p = await fake();
    const d = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url], remotePrefillMinTokens: 50 });
    await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'word '.repeat(500), max_tokens: 1 });
    expect(d.requests.filter((q) => q.path === '/tokenize')).toHaveLength(0);
    const [t] = await traces();
    expect(t).toMatchObject({ prefill: 'remote', prefillReason: 'disaggregated' });
  });

  it('prefills locally when every prefill worker is over the queue limit', async () => {
    const p = await fake({ prefillDelayMs: 400 });
    const d = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url], prefillQueueLimit: 0 });
    const first = post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'one', max_tokens: 1 });
    await p.waitForRequests('/v1/completions', 1);
    const second = await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'two', max_tokens: 1 });
    expect(second.status).toBe(200);
    expect((await first).status).toBe(200);
    const ts = await traces();
    expect(ts.map((t) => t.prefillReason).sort()).toEqual(['disaggregated', 'prefill-saturated']);
  });

  it('lets decode prefill when the prefill worker returns no kv_transfer_params', async () => {
    const p = await fake({ omitKvParams: true });
    const d = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const res = await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'x', max_tokens: 2 });
    expect(res.status).toBe(200);
    const [dReq] = await d.waitForRequests('/v1/completions', 1);
    expect(dReq!.body).not.toHaveProperty('kv_transfer_params');
    const [t] = await traces();
    expect(t).toMatchObject({ prefill: 'local', prefillReason: 'prefill-returned-no-kv-params', prefillWorker: p.url });
  });

  it('chooses the least-loaded prefill and decode workers and skips an unreachable prefill worker', async () => {
    const deadPort = await closedPort();
    const p = await fake();
    const d1 = await fake({ tokenDelayMs: 30 });
    const d2 = await fake({ tokenDelayMs: 30 });
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [`http://127.0.0.1:${deadPort}`, p.url], decode: [d1.url, d2.url] });
    const results = await Promise.all([1, 2, 3, 4].map(() => post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'x', max_tokens: 5, stream: true })));
    expect(results.map((x) => x.status)).toEqual([200, 200, 200, 200]);
    const ts = await traces();
    expect(ts.every((t) => t.prefill === 'remote' && t.prefillWorker === p.url)).toBe(true);
    expect(ts.filter((t) => t.decodeWorker === d1.url)).toHaveLength(2);
    expect(ts.filter((t) => t.decodeWorker === d2.url)).toHaveLength(2);
  });

  it('falls back to decode-side prefill when no prefill worker is reachable', async () => {
    const deadPort = await closedPort();
    const d = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [`http://127.0.0.1:${deadPort}`], decode: [d.url] });
    const res = await post(`${r.url}/v1/completions`, { model: 'fake-model', prompt: 'x', max_tokens: 1 });
    expect(res.status).toBe(200);
    const [t] = await traces();
    expect(t).toMatchObject({ prefill: 'local', prefillReason: 'prefill-unreachable' });
  });

  it('aborts the decode leg when the client disconnects mid-stream and traces the abort', async () => {
    const p = await fake();
    const d = await fake({ tokenDelayMs: 20 });
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    await readThenDisconnect(`${r.url}/v1/chat/completions`, chat({ stream: true, max_tokens: 1000 }), 3);
    const aborted = await d.waitForAbort('/v1/chat/completions');
    expect(aborted.aborted).toBe(true);
    const [t] = await traces();
    expect(t).toMatchObject({ status: 'aborted', aborted: true, prefill: 'remote', httpStatus: 200 });
    expect(t!.firstTokenAtMs).not.toBeNull();
    expect(t!.outputTokens).toBeGreaterThanOrEqual(1);
    expect(t!.outputTokensSource).toBe('chunks');
  });

  it('aborts the prefill leg and never sends a decode leg when the client leaves during prefill', async () => {
    const p = await fake({ prefillDelayMs: 5000 });
    const d = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const ac = new AbortController();
    const pending = fetch(`${r.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x', stream: true }), signal: ac.signal }).catch(() => null);
    await p.waitForRequests('/v1/completions', 1);
    ac.abort();
    await pending;
    await p.waitForAbort('/v1/completions');
    const [t] = await traces();
    expect(t).toMatchObject({ status: 'aborted', aborted: true, httpStatus: 499, decodeSentAtMs: null });
    expect(d.requests.filter((q) => q.path === '/v1/completions')).toHaveLength(0);
  });

  it('answers an OpenAI error naming the decode worker when it is down', async () => {
    const deadPort = await closedPort();
    const p = await fake();
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [`http://127.0.0.1:${deadPort}`] });
    const res = await post(`${r.url}/v1/chat/completions`, chat({ stream: true }));
    expect(res.status).toBe(502);
    const err = JSON.parse(res.text);
    expect(err.error.type).toBe('upstream_error');
    expect(err.error.code).toBe(502);
    expect(err.error.message).toContain(`decode worker http://127.0.0.1:${deadPort} is unreachable (ECONNREFUSED)`);
    const [t] = await traces();
    expect(t).toMatchObject({ status: 'error', httpStatus: 502, error: { leg: 'decode', worker: `http://127.0.0.1:${deadPort}` } });
  });

  it('passes a prefill worker 400 to the client with the worker message and maps its 500 to 502', async () => {
    const p = await fake({ failWith: { status: 400, body: JSON.stringify({ error: { message: 'max_tokens is too large', type: 'BadRequestError', param: null, code: 400 } }) } });
    const d = await fake();
    const { router: r } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const bad = await post(`${r.url}/v1/completions`, { prompt: 'x' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.message).toBe(`The prefill worker ${p.url} rejected the request (HTTP 400): max_tokens is too large`);
    p.options.failWith = { status: 500, body: 'Internal Server Error' };
    const broken = await post(`${r.url}/v1/completions`, { prompt: 'x' });
    expect(broken.status).toBe(502);
    expect(JSON.parse(broken.text).error.message).toBe(`The prefill leg failed: prefill worker ${p.url} answered HTTP 500: Internal Server Error`);
  });

  it('ends the stream with an SSE error event when the decode worker drops mid-stream', async () => {
    const p = await fake();
    const d = await fake({ dropAfterTokens: 2, tokenDelayMs: 5 });
    const { router: r, traces } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const res = await post(`${r.url}/v1/chat/completions`, chat({ stream: true, max_tokens: 10 }));
    expect(res.status).toBe(200);
    const events = dataEvents(res.text);
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!).error.message).toContain('dropped the connection in the middle of the response');
    const [t] = await traces();
    expect(t).toMatchObject({ status: 'error', error: { leg: 'decode' }, outputTokens: 2, outputTokensSource: 'chunks' });
  });

  it('reports healthy only while a prefill and a decode worker answer /health', async () => {
    const p = await fake();
    const d = await fake();
    const { router: r } = await router({ mode: 'disaggregated', prefill: [p.url], decode: [d.url] });
    const ok = await fetch(`${r.url}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', workers: [{ role: 'prefill', healthy: true }, { role: 'decode', healthy: true }] });
    await d.close();
    const down = await fetch(`${r.url}/health`);
    expect(down.status).toBe(503);
    expect((await down.json()).message).toBe('No healthy decode worker answers /health.');
  });
});

describe('aggregated mode', () => {
  it('sends each request to the worker with the fewest outstanding requests', async () => {
    const w1 = await fake({ tokenDelayMs: 20 });
    const w2 = await fake({ tokenDelayMs: 20 });
    const { router: r, traces } = await router({ mode: 'aggregated', workers: [w1.url, w2.url] });
    // A long request occupies one worker; the next requests must go to the other one.
    const long = post(`${r.url}/v1/completions`, { prompt: 'x', stream: true, max_tokens: 40 });
    const firstWorker = await Promise.race([w1.waitForRequests('/v1/completions', 1).then(() => w1), w2.waitForRequests('/v1/completions', 1).then(() => w2)]);
    const other = firstWorker === w1 ? w2 : w1;
    await post(`${r.url}/v1/completions`, { prompt: 'y', stream: true, max_tokens: 2 });
    await post(`${r.url}/v1/completions`, { prompt: 'z', stream: true, max_tokens: 2 });
    expect(other.requests.filter((q) => q.path === '/v1/completions')).toHaveLength(2);
    await long;
    const ts = await traces();
    expect(ts).toHaveLength(3);
    expect(ts.every((t) => t.mode === 'aggregated' && t.prefill === 'local' && t.prefillReason === 'aggregated' && t.prefillSentAtMs === null)).toBe(true);
  });

  it('forwards the client body bytes and Authorization header unchanged', async () => {
    const w = await fake();
    const { router: r } = await router({ mode: 'aggregated', workers: [w.url] });
    const body = chat({ stream: false, max_tokens: 2, kv_transfer_params: null, extra_field: { a: 1 } });
    await post(`${r.url}/v1/chat/completions`, body, { authorization: 'Bearer secret' });
    const [q] = await w.waitForRequests('/v1/chat/completions', 1);
    expect(q!.body).toEqual(body);
    expect(q!.headers.authorization).toBe('Bearer secret');
  });

  it('retries on a fresh connection when the worker closed a reused keep-alive connection', async () => {
    // A worker that answers the first request of each connection and resets it on the second:
    // what a router sees when it reuses a socket the worker just timed out.
    const server = net.createServer((sock) => {
      let requests = 0;
      sock.on('data', (c: Buffer) => {
        if (!c.toString('latin1').includes('\r\n\r\n')) return;
        requests++;
        if (requests > 1) return void sock.resetAndDestroy();
        const body = JSON.stringify({ id: 'x', object: 'text_completion', choices: [{ index: 0, text: 'ok' }], usage: { prompt_tokens: 1, completion_tokens: 1 } });
        sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`);
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { router: r } = await router({ mode: 'aggregated', workers: [url] });
    const first = await post(`${r.url}/v1/completions`, { prompt: 'a', max_tokens: 1 });
    const second = await post(`${r.url}/v1/completions`, { prompt: 'b', max_tokens: 1 });
    expect([first.status, second.status]).toEqual([200, 200]);
    const text = await (await fetch(`${r.url}/metrics`)).text();
    expect(text).toContain(`handoff_router_upstream_errors_total{leg="decode",worker="${url}",kind="stale"} 1`);
  });

  it('lists the models of the workers', async () => {
    const w = await fake();
    const { router: r } = await router({ mode: 'aggregated', workers: [w.url] });
    const res = await fetch(`${r.url}/v1/models`);
    expect(await res.json()).toMatchObject({ object: 'list', data: [{ id: 'fake-model' }] });
  });
});

describe('bad requests', () => {
  it('rejects malformed JSON, non-object bodies and missing fields with 400 OpenAI errors', async () => {
    const w = await fake();
    const { router: r, traces } = await router({ mode: 'aggregated', workers: [w.url] });
    const cases: [string, string, RegExp][] = [
      ['/v1/chat/completions', '{"messages": [', /^The request body is not valid JSON/],
      ['/v1/chat/completions', '[1,2]', /^The request body must be a JSON object\.$/],
      ['/v1/chat/completions', '', /^The request body is empty/],
      ['/v1/chat/completions', '{"model":"m"}', /^Invalid request body: messages: /],
      ['/v1/completions', '{"prompt": 3}', /^Invalid request body: prompt: prompt must be a string/],
      ['/v1/completions', '{"prompt": "x", "stream": "yes"}', /^Invalid request body: stream: /],
    ];
    for (const [p, body, message] of cases) {
      const res = await post(`${r.url}${p}`, body);
      expect(res.status, body).toBe(400);
      const err = JSON.parse(res.text);
      expect(err.error.type).toBe('invalid_request_error');
      expect(err.error.message).toMatch(message);
    }
    expect(w.requests.filter((q) => q.path.startsWith('/v1/'))).toHaveLength(0);
    const ts = await traces();
    expect(ts).toHaveLength(cases.length);
    expect(ts.every((t) => t.status === 'error' && t.httpStatus === 400 && t.error?.leg === 'router')).toBe(true);
  });

  it('answers 404 for another model, unknown paths, and 405 for wrong methods', async () => {
    const w = await fake();
    const { router: r } = await router({ mode: 'aggregated', workers: [w.url], model: 'served' });
    const other = await post(`${r.url}/v1/completions`, { model: 'other', prompt: 'x' });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text).error.message).toBe('The model `other` does not exist. This endpoint serves `served`.');
    expect((await fetch(`${r.url}/v2/nothing`)).status).toBe(404);
    const wrong = await fetch(`${r.url}/v1/completions`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('exposes router metrics in Prometheus text', async () => {
    const w = await fake();
    const { router: r } = await router({ mode: 'aggregated', workers: [w.url] });
    await post(`${r.url}/v1/completions`, { prompt: 'x', stream: true, max_tokens: 2 });
    await post(`${r.url}/v1/completions`, '{');
    const text = await (await fetch(`${r.url}/metrics`)).text();
    expect(text).toContain('handoff_router_requests_total{mode="aggregated",endpoint="/v1/completions",outcome="ok"} 1');
    expect(text).toContain('handoff_router_requests_total{mode="aggregated",endpoint="/v1/completions",outcome="bad_request"} 1');
    expect(text).toContain(`handoff_router_outstanding_requests{worker="${w.url}",role="worker"} 0`);
    expect(text).toContain('handoff_router_time_to_first_token_seconds_count{mode="aggregated"} 1');
    expect(text).toContain('handoff_router_prefill_total{placement="local",reason="aggregated"} 1');
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Streams a request, reads `events` SSE events, then drops the connection. */
function readThenDisconnect(url: string, body: unknown, events: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
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
