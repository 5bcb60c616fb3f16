import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatDelta, ChatDone } from '../../../common/chat';
import type { DeploymentRecord, ForwardInfo } from '../../../common/deployment-view';
import { ChatService, chatRequestBody } from './chat-service';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Handler = (req: http.IncomingMessage, body: Record<string, unknown>, res: http.ServerResponse) => void;

/** A stand-in router: the test decides what /v1/chat/completions answers; traces are remembered per X-Request-Id. */
async function fakeRouter(handler: Handler): Promise<{ port: number; bodies: Record<string, unknown>[]; closedEarly: string[] }> {
  const bodies: Record<string, unknown>[] = [];
  const closedEarly: string[] = [];
  const traces = new Map<string, unknown>();
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/handoff/traces/')) {
      const id = decodeURIComponent(req.url.slice('/handoff/traces/'.length).split('?')[0]!);
      const t = traces.get(id);
      res.writeHead(t ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(t ?? { error: { message: `No trace for request ${id}` } }));
      return;
    }
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push(body);
      const id = String(req.headers['x-request-id']);
      res.on('close', () => {
        if (!res.writableFinished) closedEarly.push(id);
      });
      traces.set(id, {
        v: 1, requestId: id, endpoint: '/v1/chat/completions', mode: 'disaggregated', stream: true, arrivalAtMs: 1, prefillSentAtMs: 1, prefillDoneAtMs: 2,
        decodeSentAtMs: 2, firstTokenAtMs: 3, lastTokenAtMs: 4, finishedAtMs: 5, prefillWorker: 'http://p', decodeWorker: 'http://d', prefill: 'remote',
        prefillReason: 'disaggregated', promptTokens: 5, promptTokensSource: 'usage', outputTokens: 2, outputTokensSource: 'usage', kvBlocks: 1, remoteEngineId: 'e',
        status: 'ok', httpStatus: 200, error: null, aborted: false,
      });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { port: (server.address() as AddressInfo).port, bodies, closedEarly };
}

function service(port: number, stoppedAt: string | null = null): { chat: ChatService; deltas: ChatDelta[]; done: Promise<ChatDone> } {
  const record = { id: 'dep-1', name: 'demo', simulated: true, stoppedAt, plan: { mode: 'disaggregated', model: { servedName: 'served-model' } } } as unknown as DeploymentRecord;
  const fwd: ForwardInfo = { id: 'dep-1', host: 'this-computer', localPort: port, url: `http://127.0.0.1:${port}/v1`, remote: '127.0.0.1:8181' };
  const chat = new ChatService({ deployments: { resolve: async () => record, forward: async () => fwd }, traceWaitMs: 100 });
  cleanups.push(() => chat.close());
  const deltas: ChatDelta[] = [];
  chat.on('delta', (d) => deltas.push(d));
  const done = new Promise<ChatDone>((r) => chat.once('done', r));
  return { chat, deltas, done };
}

const sse = (res: http.ServerResponse, events: unknown[]) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`);
};
const tok = (content: string, finish: string | null = null) => ({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

describe('ChatService', () => {
  it('streams the answer as deltas, then a done event with usage-based stats and the router trace', async () => {
    const r = await fakeRouter((_req, _b, res) => {
      sse(res, [{ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }, tok('Hel'), 'not json', tok('lo', 'length'), { choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } }, '[DONE]']);
      res.end();
    });
    const { chat, deltas, done } = service(r.port);
    const started = await chat.start({ streamId: 's1', deployment: 'demo', messages: [{ role: 'user', content: 'hi' }], params: { temperature: 0, topP: 0.9, maxTokens: 2, seed: 3, stop: ['\n\n'] } });
    expect(started).toMatchObject({ streamId: 's1', deploymentId: 'dep-1', simulated: true, mode: 'disaggregated', model: 'served-model' });
    const d = await done;
    expect(deltas.map((x) => x.text).join('')).toBe('Hello');
    expect(d).toMatchObject({ streamId: 's1', outcome: 'ok', text: 'Hello', error: null, traceNote: null });
    expect(d.stats).toMatchObject({ inputTokens: 7, outputTokens: 2, outputTokensSource: 'usage', finishReason: 'length' });
    expect(d.trace?.requestId).toBe(started.requestId);
    expect(r.bodies[0]).toEqual({
      model: 'served-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
      temperature: 0, top_p: 0.9, max_tokens: 2, seed: 3, stop: ['\n\n'],
    });
  });

  it('stops mid-stream by closing the connection, and reports what arrived as stopped', async () => {
    const r = await fakeRouter((_req, _b, res) => {
      sse(res, [tok('a'), tok('b')]);
      const t = setInterval(() => res.write(`data: ${JSON.stringify(tok('x'))}\n\n`), 5);
      res.on('close', () => clearInterval(t));
    });
    const { chat, deltas, done } = service(r.port);
    await chat.start({ streamId: 's2', deployment: 'demo', messages: [{ role: 'user', content: 'go' }], params: {} });
    while (deltas.length === 0) await new Promise((res) => setTimeout(res, 5));
    expect(chat.stop('s2')).toBe(true);
    const d = await done;
    expect(d.outcome).toBe('stopped');
    expect(d.error).toBeNull();
    expect(d.stats.outputTokensSource).toBe('chunks');
    expect(d.text.startsWith('ab')).toBe(true);
    await new Promise((res) => setTimeout(res, 50));
    expect(r.closedEarly).toEqual([d.requestId]);
    expect(chat.stop('s2')).toBe(false);
  });

  it('reports a context-length 400 inline as context-too-long', async () => {
    const r = await fakeRouter((_req, _b, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: "This model's maximum context length is 64 tokens. However, your prompt contains 90 input tokens.", type: 'BadRequestError', code: 400 } }));
    });
    const { chat, done } = service(r.port);
    await chat.start({ streamId: 's3', deployment: 'demo', messages: [{ role: 'user', content: 'long' }], params: {} });
    const d = await done;
    expect(d.outcome).toBe('error');
    expect(d.error?.code).toBe('context-too-long');
  });

  it('ends with a stream-dropped error when the connection dies mid-answer, and with router-error on an error event', async () => {
    const r = await fakeRouter((_req, b, res) => {
      sse(res, [tok('part')]);
      if ((b.messages as Array<{ content: string }>)[0]!.content === 'drop') setTimeout(() => res.destroy(), 10);
      else res.end(`data: ${JSON.stringify({ error: { message: 'decode worker crashed' } })}\n\ndata: [DONE]\n\n`);
    });
    const a = service(r.port);
    await a.chat.start({ streamId: 's4', deployment: 'demo', messages: [{ role: 'user', content: 'drop' }], params: {} });
    expect((await a.done).error?.code).toBe('stream-dropped');
    const b = service(r.port);
    await b.chat.start({ streamId: 's5', deployment: 'demo', messages: [{ role: 'user', content: 'err' }], params: {} });
    const d = await b.done;
    expect(d.error?.code).toBe('router-error');
    expect(d.error?.message).toMatch(/decode worker crashed/);
    expect(d.text).toBe('part');
  });

  it('says the deployment is down when nothing listens, without asking for a trace', async () => {
    const r = await fakeRouter(() => undefined);
    await cleanups.pop()!();
    const { chat, done } = service(r.port);
    await chat.start({ streamId: 's6', deployment: 'demo', messages: [{ role: 'user', content: 'x' }], params: {} });
    const d = await done;
    expect(d.error?.code).toBe('deployment-down');
    expect(d.traceNote).toMatch(/did not reach the router/);
  });

  it('refuses a stopped deployment and a stream id already in use', async () => {
    const r = await fakeRouter((_req, _b, res) => sse(res, [tok('slow')]));
    await expect(service(r.port, '2026-01-01T00:00:00Z').chat.start({ streamId: 's7', deployment: 'demo', messages: [{ role: 'user', content: 'x' }], params: {} })).rejects.toMatchObject({ code: 'deployment-stopped' });
    const { chat } = service(r.port);
    await chat.start({ streamId: 's8', deployment: 'demo', messages: [{ role: 'user', content: 'x' }], params: {} });
    await expect(chat.start({ streamId: 's8', deployment: 'demo', messages: [{ role: 'user', content: 'x' }], params: {} })).rejects.toMatchObject({ code: 'stream-exists' });
  });

  it('leaves out parameters that were not set', () => {
    expect(chatRequestBody('m', { streamId: 'x', deployment: 'd', messages: [{ role: 'user', content: 'q' }], params: { stop: [] } })).toEqual({
      model: 'm', messages: [{ role: 'user', content: 'q' }], stream: true, stream_options: { include_usage: true },
    });
  });
});
