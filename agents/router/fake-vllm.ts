import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny stand-in for a vLLM OpenAI server that records what it receives — for protocol-shape
 * tests of the router and for the router benchmark's zero-latency upstream. It answers the way
 * reference/vllm-disagg.md §2 and §4 describe (P-leg JSON with kv_transfer_params, SSE chunks,
 * usage, [DONE]) but simulates nothing else; the mocker is the real simulator.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | null;
  /** The router (client) closed the connection before the response ended. */
  aborted: boolean;
}

export interface FakeVllmOptions {
  /** Label put in kv_transfer_params.remote_engine_id and in responses. */
  name?: string;
  /** Output tokens per request when the body has no max_tokens. */
  defaultTokens?: number;
  /** Delay between streamed tokens; 0 writes them back to back. */
  tokenDelayMs?: number;
  /** Delay before answering a non-streaming (prefill) request. */
  prefillDelayMs?: number;
  /** Delay before the first streamed token. */
  firstTokenDelayMs?: number;
  /** Prompt tokens reported in usage and /tokenize when the prompt is not token ids. */
  promptTokens?: (body: Record<string, unknown>) => number;
  /** Answer generation requests with this status and body instead. */
  failWith?: { status: number; body: string } | null;
  /** Stop streaming after this many tokens and drop the connection (upstream crash mid-stream). */
  dropAfterTokens?: number | null;
  /** Act as a P worker that answers without kv_transfer_params (not configured as kv_producer). */
  omitKvParams?: boolean;
  blockSize?: number;
  /** Record requests (off in benchmarks). */
  record?: boolean;
}

export interface FakeVllm {
  readonly url: string;
  readonly requests: RecordedRequest[];
  options: FakeVllmOptions;
  /** Resolves when a request to `path` has been recorded as aborted. */
  waitForAbort(path: string): Promise<RecordedRequest>;
  /** Resolves when `n` requests to `path` have arrived. */
  waitForRequests(path: string, n: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

function defaultPromptTokens(body: Record<string, unknown>): number {
  if (Array.isArray(body.prompt) && body.prompt.every((t) => typeof t === 'number')) return body.prompt.length;
  const text = typeof body.prompt === 'string' ? body.prompt : JSON.stringify(body.messages ?? '');
  return Math.max(1, Math.ceil(Buffer.byteLength(text) / 4));
}

export async function startFakeVllm(options: FakeVllmOptions = {}): Promise<FakeVllm> {
  const requests: RecordedRequest[] = [];
  const waiters: (() => void)[] = [];
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  let counter = 0;
  const fake: FakeVllm = {
    url: '',
    requests,
    options,
    waitForAbort(path) {
      return new Promise((resolve) => {
        const check = (): void => {
          const r = requests.find((q) => q.path === path && q.aborted);
          if (r) resolve(r);
          else waiters.push(check);
        };
        check();
      });
    },
    waitForRequests(path, n) {
      return new Promise((resolve) => {
        const check = (): void => {
          const rs = requests.filter((q) => q.path === path);
          if (rs.length >= n) resolve(rs);
          else waiters.push(check);
        };
        check();
      });
    },
    close: async () => {},
  };

  const server = http.createServer({ noDelay: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const o = fake.options;
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      let body: Record<string, unknown> | null = null;
      try {
        const raw = Buffer.concat(chunks).toString('utf8');
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      const rec: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, aborted: false };
      if (o.record !== false) {
        requests.push(rec);
        notify();
      }
      res.on('close', () => {
        if (!res.writableFinished) {
          rec.aborted = true;
          notify();
        }
      });
      const json = (status: number, v: unknown): void => {
        const text = JSON.stringify(v);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      const name = o.name ?? 'fake';
      if (path === '/health') return void res.writeHead(200).end();
      if (path === '/v1/models') return json(200, { object: 'list', data: [{ id: 'fake-model', object: 'model', root: 'fake-model', max_model_len: 4096 }] });
      if (path === '/tokenize' && body) {
        const n = (o.promptTokens ?? defaultPromptTokens)(body);
        return json(200, { count: n, max_model_len: 4096, tokens: Array.from({ length: n }, (_, i) => i), token_strs: null });
      }
      if ((path === '/v1/completions' || path === '/v1/chat/completions') && req.method === 'POST' && body) {
        if (o.failWith) {
          res.writeHead(o.failWith.status, { 'content-type': 'application/json' });
          return void res.end(o.failWith.body);
        }
        const chat = path === '/v1/chat/completions';
        const id = `${chat ? 'chatcmpl' : 'cmpl'}-${String(req.headers['x-request-id'] ?? ++counter)}`;
        const promptTokens = (o.promptTokens ?? defaultPromptTokens)(body);
        const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : (o.defaultTokens ?? 16);
        const usage = (completion: number) => ({ prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion, prompt_tokens_details: null });
        const kvIn = body.kv_transfer_params as Record<string, unknown> | undefined;
        if (body.stream !== true) {
          const answer = (): void => {
            const blocks = Math.ceil(promptTokens / (o.blockSize ?? 16));
            const kvOut =
              kvIn && kvIn.do_remote_decode === true && !o.omitKvParams
                ? {
                    do_remote_prefill: true,
                    do_remote_decode: false,
                    remote_block_ids: Array.from({ length: blocks }, (_, i) => i),
                    remote_engine_id: name,
                    remote_request_id: id,
                    remote_host: '127.0.0.1',
                    remote_port: 5600,
                    tp_size: 1,
                  }
                : null;
            const text = 'x'.repeat(maxTokens);
            const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' } : { index: 0, text, finish_reason: 'length' };
            json(200, { id, object: chat ? 'chat.completion' : 'text_completion', created: 0, model: 'fake-model', choices: [choice], usage: usage(maxTokens), kv_transfer_params: kvOut });
          };
          if (o.prefillDelayMs) setTimeout(answer, o.prefillDelayMs);
          else answer();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
          `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: 0, model: 'fake-model', choices, ...extra })}\n\n`;
        const tokenChunk = (i: number, last: boolean): string =>
          chunk([
            chat
              ? { index: 0, delta: { content: `t${i} ` }, logprobs: null, finish_reason: last ? 'length' : null }
              : { index: 0, text: `t${i} `, logprobs: null, finish_reason: last ? 'length' : null },
          ]);
        if (chat) res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
        const includeUsage = typeof body.stream_options === 'object' && body.stream_options !== null && (body.stream_options as Record<string, unknown>).include_usage === true;
        const finish = (): void => {
          if (includeUsage) res.write(chunk([], { usage: usage(maxTokens) }));
          res.end('data: [DONE]\n\n');
        };
        const delay = o.tokenDelayMs ?? 0;
        let i = 0;
        const step = (): void => {
          if (res.destroyed) return;
          if (o.dropAfterTokens != null && i >= o.dropAfterTokens) return void res.destroy();
          if (i >= maxTokens) return finish();
          if (delay > 0) {
            res.write(tokenChunk(i, i === maxTokens - 1));
            i++;
            setTimeout(step, delay);
            return;
          }
          // Zero latency: one write per token, as an engine that emits every step would.
          while (i < maxTokens && (o.dropAfterTokens == null || i < o.dropAfterTokens)) {
            res.write(tokenChunk(i, i === maxTokens - 1));
            i++;
          }
          setImmediate(step);
        };
        if (o.firstTokenDelayMs) setTimeout(step, o.firstTokenDelayMs);
        else step();
        return;
      }
      json(404, { error: { message: `fake vLLM has no route ${req.method} ${path}`, type: 'NotFoundError', param: null, code: 404 } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return fake;
}
