import { afterEach, describe, expect, it } from 'vitest';
import { RouterTrace, type RouterTrace as RouterTraceT } from '../../common/router-trace';
import { startFakeVllm } from './fake-vllm';
import { createJsonLog } from './json-log';
import { RecentTraces } from './recent-traces';
import { startRouter } from './router-server';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function trace(requestId: string): RouterTraceT {
  return {
    v: 1, requestId, endpoint: '/v1/chat/completions', mode: 'disaggregated', stream: true, arrivalAtMs: 1, prefillSentAtMs: null,
    prefillDoneAtMs: null, decodeSentAtMs: null, firstTokenAtMs: null, lastTokenAtMs: null, finishedAtMs: 2, prefillWorker: null,
    decodeWorker: null, prefill: 'remote', prefillReason: 'disaggregated', promptTokens: null, promptTokensSource: null, outputTokens: null,
    outputTokensSource: null, kvBlocks: null, remoteEngineId: null, status: 'ok', httpStatus: 200, error: null, aborted: false,
  };
}

describe('RecentTraces', () => {
  it('keeps the newest traces up to its capacity and forgets the oldest first', () => {
    const r = new RecentTraces(2);
    r.add(trace('a'));
    r.add(trace('b'));
    r.add(trace('c'));
    expect(r.get('a')).toBeNull();
    expect(r.get('b')?.requestId).toBe('b');
    expect(r.get('c')?.requestId).toBe('c');
  });

  it('answers a waiting reader when the trace arrives, and gives up after the wait without leaking waiters', async () => {
    const r = new RecentTraces();
    const later = r.wait('x', 5000);
    r.add(trace('x'));
    expect((await later)?.requestId).toBe('x');
    expect(await r.wait('never', 20)).toBeNull();
    const ac = new AbortController();
    const aborted = r.wait('never', 5000, ac.signal);
    ac.abort();
    expect(await aborted).toBeNull();
    expect(r.waiting).toBe(0);
  });

  it('stores a copy, so later changes to the request context do not alter it', () => {
    const r = new RecentTraces();
    const t = trace('m');
    r.add(t);
    t.status = 'error';
    expect(r.get('m')?.status).toBe('ok');
  });
});

describe('GET /handoff/traces/<requestId>', () => {
  async function setup(tokenDelayMs = 0) {
    const p = await startFakeVllm({ name: 'engine-p' });
    const d = await startFakeVllm({ name: 'engine-d', tokenDelayMs });
    cleanups.push(() => p.close(), () => d.close());
    const r = await startRouter({ port: 0, mode: 'disaggregated', prefill: [p.url], decode: [d.url] }, createJsonLog('error', 'router', () => {}));
    cleanups.push(() => r.close());
    return { r, p, d };
  }

  it('returns the trace of a finished request by the X-Request-Id the client sent', async () => {
    const { r, p, d } = await setup();
    const res = await fetch(`${r.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'chat-12' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 3 }),
    });
    await res.text();
    const got = await fetch(`${r.url}/handoff/traces/chat-12`);
    expect(got.status).toBe(200);
    const t = RouterTrace.parse(await got.json());
    expect(t).toMatchObject({ requestId: 'chat-12', status: 'ok', prefill: 'remote', prefillWorker: p.url, decodeWorker: d.url, outputTokens: 3 });
  });

  it('waits for a request that is still streaming and returns its abort once the client leaves', async () => {
    const { r, d } = await setup(20);
    const ac = new AbortController();
    const res = await fetch(`${r.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'chat-abort' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 1000 }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const pending = fetch(`${r.url}/handoff/traces/chat-abort?waitMs=5000`);
    ac.abort();
    await reader.read().catch(() => null);
    const got = await pending;
    expect(got.status).toBe(200);
    expect(RouterTrace.parse(await got.json())).toMatchObject({ requestId: 'chat-abort', status: 'aborted', aborted: true });
    expect((await d.waitForAbort('/v1/chat/completions')).aborted).toBe(true);
  });

  it('answers 404 for an unknown request and 400 for a bad wait, as OpenAI errors', async () => {
    const { r } = await setup();
    const missing = await fetch(`${r.url}/handoff/traces/nope?waitMs=10`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/No trace for request nope/);
    const bad = await fetch(`${r.url}/handoff/traces/x?waitMs=soon`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('waitMs');
    const badEncoding = await fetch(`${r.url}/handoff/traces/%E0%A4%A`);
    expect(badEncoding.status).toBe(400);
    const post = await fetch(`${r.url}/handoff/traces/x`, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});
