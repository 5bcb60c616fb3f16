import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { PrefillPlacement, PrefillReason, RouterLeg, RouterTrace, RouterTraceError } from '../../common/router-trace';
import { openAiError, sendOpenAiError, upstreamErrorMessage, type OpenAiErrorType } from './openai-error';
import { chatPromptText, completionPromptText, estimateTokens, judgePromptLength, tokenizeBody, type PromptText } from './prompt-length';
import { countKvBlocks, decodeLegBody, parseGenerationBody, prefillLegBody, type GenerationEndpoint } from './request-body';
import { isRecord, SseScanner, usageOf } from './sse-scanner';
import { callUpstream, readUpstreamBody, UpstreamFailure } from './upstream-call';
import type { RouterState } from './router-state';
import type { Worker, WorkerPool } from './worker-pool';
import { nowMs } from './clock';

const maxClientBodyBytes = 64 << 20;
// Hop-by-hop headers (RFC 9110 §7.6.1) and those Node sets itself are not relayed.
const droppedResponseHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer', 'date', 'x-request-id']);

class ClientGone extends Error {}
class BodyTooLarge extends Error {}

/** Thrown inside the flow to answer the client with an OpenAI error and record why. */
class RouteError extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAiErrorType,
    message: string,
    readonly leg: RouterLeg,
    readonly worker: Worker | null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One client request through the router: trace state, the upstream legs in flight, abort handling. */
class RequestContext {
  readonly legs = new Set<http.ClientRequest>();
  aborted = false;
  /** Set while a stream is relayed, so an abort still records the tokens that got through. */
  scanner: SseScanner | null = null;
  private finished = false;
  readonly trace: Mutable<RouterTrace>;

  constructor(
    readonly state: RouterState,
    readonly res: http.ServerResponse,
    endpoint: GenerationEndpoint,
    requestId: string,
    arrivalAtMs: number,
  ) {
    this.trace = {
      v: 1,
      requestId,
      endpoint,
      mode: state.options.mode,
      stream: false,
      arrivalAtMs,
      prefillSentAtMs: null,
      prefillDoneAtMs: null,
      decodeSentAtMs: null,
      firstTokenAtMs: null,
      lastTokenAtMs: null,
      finishedAtMs: arrivalAtMs,
      prefillWorker: null,
      decodeWorker: null,
      prefill: 'local',
      prefillReason: state.options.mode === 'aggregated' ? 'aggregated' : 'disaggregated',
      promptTokens: null,
      promptTokensSource: null,
      outputTokens: null,
      outputTokensSource: null,
      kvBlocks: null,
      remoteEngineId: null,
      status: 'ok',
      httpStatus: 200,
      error: null,
      aborted: false,
    };
  }

  /** The client closed its connection before the response ended: abort every upstream leg. */
  clientGone(): void {
    if (this.finished || this.aborted) return;
    this.aborted = true;
    for (const req of this.legs) req.destroy();
    this.legs.clear();
    this.finish('aborted', this.res.headersSent ? this.res.statusCode : 499, null, 'aborted');
  }

  setPrefill(placement: PrefillPlacement, reason: PrefillReason): void {
    this.trace.prefill = placement;
    this.trace.prefillReason = reason;
  }

  finish(status: RouterTrace['status'], httpStatus: number, error: RouterTraceError | null, outcome: 'ok' | 'error' | 'aborted' | 'bad_request'): void {
    if (this.finished) return;
    this.finished = true;
    const t = this.trace;
    t.finishedAtMs = nowMs();
    if (this.scanner && t.outputTokens === null) {
      this.scanner.finish();
      t.firstTokenAtMs = this.scanner.firstTokenAtMs;
      t.lastTokenAtMs = this.scanner.lastTokenAtMs;
      t.outputTokens = this.scanner.tokenChunks;
      t.outputTokensSource = 'chunks';
    }
    t.status = status;
    t.httpStatus = httpStatus;
    t.error = error;
    t.aborted = status === 'aborted';
    const { metrics, log, traceWriter, recentTraces } = this.state;
    metrics.requests.inc({ mode: t.mode, endpoint: t.endpoint, outcome });
    if (outcome !== 'bad_request') metrics.countPrefill(t.prefill, t.prefillReason);
    if (status === 'ok') {
      if (t.stream && t.firstTokenAtMs !== null) metrics.ttft.observe({ mode: t.mode }, (t.firstTokenAtMs - t.arrivalAtMs) / 1000);
      metrics.e2e.observe({ mode: t.mode }, (t.finishedAtMs - t.arrivalAtMs) / 1000);
    }
    if (t.kvBlocks !== null && t.prefill === 'remote' && status !== 'aborted') metrics.kvBlocks.inc(t.kvBlocks);
    traceWriter?.write(t);
    recentTraces.add(t);
    if (status === 'error') log.log('warn', 'request failed', { requestId: t.requestId, httpStatus, ...error });
    else if (log.enabled('debug')) log.log('debug', 'request finished', { ...t });
  }

  /** Answers with an OpenAI error (or, mid-stream, an SSE error event) and records it. */
  fail(e: RouteError): void {
    const worker = e.worker?.url ?? null;
    const body = openAiError(e.status, e.type, e.message, e.param);
    const { res } = this;
    if (!res.headersSent) {
      sendOpenAiError(res, e.status, body, { 'x-request-id': this.trace.requestId });
      this.finish('error', e.status, { leg: e.leg, worker, message: e.message }, e.leg === 'router' && e.status < 500 ? 'bad_request' : 'error');
      return;
    }
    // Headers are out: vLLM's own convention for a failure inside a stream is an error event then [DONE].
    if (this.trace.stream && !res.writableEnded) res.end(`data: ${JSON.stringify(body)}\n\ndata: [DONE]\n\n`);
    else if (!res.writableEnded) res.destroy();
    this.finish('error', res.statusCode, { leg: e.leg, worker, message: e.message }, 'error');
  }
}

function pickRequestId(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  // Printable ASCII only, bounded: the id is echoed into upstream headers and trace files.
  if (v && v.length <= 256 && /^[\x21-\x7e]+$/.test(v)) return v;
  return randomUUID();
}

function readClientBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxClientBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new ClientGone()));
    req.on('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

function upstreamHeaders(req: http.IncomingMessage, requestId: string): Record<string, string> {
  const h: Record<string, string> = { 'x-request-id': requestId };
  const auth = req.headers.authorization;
  if (auth) h.authorization = auth;
  return h;
}

/** POST /v1/chat/completions and /v1/completions, in either mode. */
export async function handleGeneration(state: RouterState, req: http.IncomingMessage, res: http.ServerResponse, endpoint: GenerationEndpoint): Promise<void> {
  const arrivalAtMs = nowMs();
  const ctx = new RequestContext(state, res, endpoint, pickRequestId(req.headers['x-request-id']), arrivalAtMs);
  res.on('close', () => {
    if (!res.writableFinished) ctx.clientGone();
  });
  try {
    await route(ctx, req, endpoint);
  } catch (err) {
    if (ctx.aborted || err instanceof ClientGone) return;
    if (err instanceof RouteError) ctx.fail(err);
    else {
      state.log.log('error', 'router bug while handling a request', { requestId: ctx.trace.requestId, error: err instanceof Error ? err.stack : String(err) });
      ctx.fail(new RouteError(500, 'internal_error', `The router failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`, 'router', null));
    }
  }
}

async function route(ctx: RequestContext, req: http.IncomingMessage, endpoint: GenerationEndpoint): Promise<void> {
  const { state } = ctx;
  const { options } = state;
  let raw: Buffer;
  try {
    raw = await readClientBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new RouteError(413, 'invalid_request_error', `The request body is larger than ${maxClientBodyBytes} bytes.`, 'router', null);
    throw new ClientGone();
  }
  const parsed = parseGenerationBody(endpoint, raw);
  if (!parsed.ok) throw new RouteError(400, 'invalid_request_error', parsed.message, 'router', null, parsed.param);
  const body = parsed.body;
  ctx.trace.stream = body.stream === true;
  if (options.model !== null && typeof body.model === 'string' && body.model !== options.model)
    throw new RouteError(404, 'not_found_error', `The model \`${body.model}\` does not exist. This endpoint serves \`${options.model}\`.`, 'router', null, 'model');
  const headers = upstreamHeaders(req, ctx.trace.requestId);

  if (options.mode === 'aggregated') {
    ctx.setPrefill('local', 'aggregated');
    await decodeLeg(ctx, state.pools.workers, endpoint, raw, headers);
    return;
  }

  let placement: PrefillReason = 'disaggregated';
  if (options.remotePrefillMinTokens > 0) {
    const prompt = endpoint === '/v1/chat/completions' ? chatPromptText(body.messages as unknown[]) : completionPromptText(body.prompt);
    const n = await promptTokens(ctx, endpoint, body, prompt, headers);
    if (n < options.remotePrefillMinTokens) placement = 'short-prompt';
  }
  if (placement === 'disaggregated' && options.prefillQueueLimit !== null && state.pools.prefill.allAbove(options.prefillQueueLimit)) placement = 'prefill-saturated';
  if (placement !== 'disaggregated') {
    ctx.setPrefill('local', placement);
    await decodeLeg(ctx, state.pools.decode, endpoint, raw, headers);
    return;
  }

  const kv = await prefillLeg(ctx, endpoint, body, headers);
  if (ctx.aborted) return;
  if (kv === null) {
    await decodeLeg(ctx, state.pools.decode, endpoint, raw, headers);
    return;
  }
  await decodeLeg(ctx, state.pools.decode, endpoint, Buffer.from(JSON.stringify(decodeLegBody(body, kv))), headers);
}

/** Prompt tokens for the conditional rule; see prompt-length.ts for when /tokenize is asked. */
async function promptTokens(ctx: RequestContext, endpoint: GenerationEndpoint, body: Record<string, unknown>, prompt: PromptText, headers: Record<string, string>): Promise<number> {
  const { state } = ctx;
  const t = ctx.trace;
  const verdict = judgePromptLength(prompt, state.options.remotePrefillMinTokens);
  if (verdict.kind !== 'ask') {
    t.promptTokens = verdict.tokens;
    t.promptTokensSource = verdict.source === 'exact' ? 'token-ids' : 'estimate';
    return verdict.tokens;
  }
  const tb = tokenizeBody(endpoint, body);
  const worker = state.pools.decode.pick(nowMs());
  const fallback = (): number => {
    t.promptTokens = estimateTokens(prompt);
    t.promptTokensSource = 'estimate';
    return t.promptTokens;
  };
  if (!tb || !worker) return fallback();
  const call = callUpstream({ worker, leg: 'tokenize', method: 'POST', path: '/tokenize', headers, body: Buffer.from(JSON.stringify(tb)), connectTimeoutMs: state.options.connectTimeoutMs });
  ctx.legs.add(call.req);
  try {
    const res = await call.response;
    const data = await readUpstreamBody(res, 'tokenize', worker, 16 << 20);
    if (res.statusCode !== 200) throw new UpstreamFailure('http', 'tokenize', worker, `tokenize on ${worker.url} answered ${res.statusCode}: ${upstreamErrorMessage(data)}`, res.statusCode ?? null);
    const v: unknown = JSON.parse(data.toString('utf8'));
    const count = isRecord(v) ? (typeof v.count === 'number' ? v.count : Array.isArray(v.tokens) ? v.tokens.length : null) : null;
    if (count === null || !Number.isInteger(count) || count < 0) throw new UpstreamFailure('protocol', 'tokenize', worker, `tokenize on ${worker.url} answered without a token count`);
    t.promptTokens = count;
    t.promptTokensSource = 'tokenize';
    return count;
  } catch (err) {
    if (ctx.aborted) throw new ClientGone();
    const f = err instanceof UpstreamFailure ? err : new UpstreamFailure('protocol', 'tokenize', worker, `tokenize on ${worker.url} answered invalid JSON`);
    state.metrics.countUpstreamError('tokenize', worker, f.kind);
    state.log.log('warn', 'tokenize failed; using the byte estimate', { requestId: t.requestId, worker: worker.url, error: f.message });
    return fallback();
  } finally {
    ctx.legs.delete(call.req);
  }
}

/**
 * The P leg: returns P's kv_transfer_params, or null when the decode worker must prefill itself
 * (no prefill worker reachable, or P answered without params — D then silently recomputes, §2.4).
 */
async function prefillLeg(ctx: RequestContext, endpoint: GenerationEndpoint, body: Record<string, unknown>, headers: Record<string, string>): Promise<Record<string, unknown> | null> {
  const { state } = ctx;
  const t = ctx.trace;
  const payload = Buffer.from(JSON.stringify(prefillLegBody(body)));
  ctx.setPrefill('remote', 'disaggregated');
  const sent = await sendLeg(ctx, state.pools.prefill, 'prefill', endpoint, payload, headers);
  if (sent === null) {
    t.prefillWorker = null;
    t.prefillSentAtMs = null;
    ctx.setPrefill('local', 'prefill-unreachable');
    return null;
  }
  const { worker, res, release } = sent;
  let data: Buffer;
  try {
    data = await readUpstreamBody(res, 'prefill', worker);
  } catch (err) {
    release();
    if (ctx.aborted) throw new ClientGone();
    const f = err as UpstreamFailure;
    state.metrics.countUpstreamError('prefill', worker, f.kind);
    throw new RouteError(502, 'upstream_error', `The prefill leg failed: ${f.message}.`, 'prefill', worker);
  }
  release();
  t.prefillDoneAtMs = nowMs();
  state.metrics.prefillLeg.observe((t.prefillDoneAtMs - (t.prefillSentAtMs ?? t.prefillDoneAtMs)) / 1000);
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    state.metrics.countUpstreamError('prefill', worker, 'http');
    throw httpError('prefill', worker, status, data);
  }
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    state.metrics.countUpstreamError('prefill', worker, 'protocol');
    state.log.log('warn', 'prefill worker answered non-JSON; decode will prefill', { requestId: t.requestId, worker: worker.url });
    ctx.setPrefill('local', 'prefill-returned-no-kv-params');
    return null;
  }
  const u = isRecord(v) && isRecord(v.usage) ? v.usage.prompt_tokens : undefined;
  if (typeof u === 'number' && Number.isInteger(u) && u >= 0) {
    t.promptTokens = u;
    t.promptTokensSource = 'usage';
  }
  const kv = isRecord(v) ? v.kv_transfer_params : undefined;
  if (!isRecord(kv)) {
    // Typical cause: the prefill worker was started without --kv-transfer-config kv_producer (§7 #10).
    state.log.log('warn', 'prefill worker returned no kv_transfer_params; decode will prefill', { requestId: t.requestId, worker: worker.url });
    ctx.setPrefill('local', 'prefill-returned-no-kv-params');
    return null;
  }
  t.kvBlocks = countKvBlocks(kv);
  t.remoteEngineId = typeof kv.remote_engine_id === 'string' ? kv.remote_engine_id : null;
  return kv;
}

function httpError(leg: 'prefill' | 'decode', worker: Worker, status: number, data: Buffer): RouteError {
  const msg = upstreamErrorMessage(data);
  if (status >= 400 && status < 500)
    return new RouteError(status, status === 404 ? 'not_found_error' : 'invalid_request_error', `The ${worker.label} rejected the request (HTTP ${status}): ${msg}`, leg, worker);
  return new RouteError(502, 'upstream_error', `${legFailed(leg, worker)}: ${worker.label} answered HTTP ${status}: ${msg}`, leg, worker);
}

/** "The decode leg failed", or in aggregated mode (one leg) "The request failed". */
function legFailed(leg: RouterLeg, worker: Worker): string {
  return worker.role === 'worker' ? 'The request failed' : `The ${leg} leg failed`;
}

interface SentLeg {
  worker: Worker;
  res: http.IncomingMessage;
  /** Ends the leg's outstanding count (idempotent). */
  release: () => void;
}

/**
 * Sends a leg to the least-loaded worker of a pool. Failures where nothing reached the worker
 * (connect, stale keep-alive socket) are retried on another worker; for the prefill leg, running
 * out of workers returns null (decode prefills), for decode it is an error.
 */
async function sendLeg(ctx: RequestContext, pool: WorkerPool, leg: 'prefill' | 'decode', endpoint: GenerationEndpoint, payload: Buffer, headers: Record<string, string>): Promise<SentLeg | null> {
  const { state } = ctx;
  const tried = new Set<Worker>();
  let last: UpstreamFailure | null = null;
  for (let attempt = 0; attempt < pool.workers.length + 2; attempt++) {
    const worker = pool.pick(nowMs(), tried);
    if (!worker) break;
    worker.outstanding++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      worker.outstanding--;
    };
    const sentAtMs = nowMs();
    if (leg === 'prefill') {
      ctx.trace.prefillSentAtMs = sentAtMs;
      ctx.trace.prefillWorker = worker.url;
    } else {
      ctx.trace.decodeSentAtMs = sentAtMs;
      ctx.trace.decodeWorker = worker.url;
    }
    const call = callUpstream({ worker, leg, method: 'POST', path: endpoint, headers, body: payload, connectTimeoutMs: state.options.connectTimeoutMs });
    ctx.legs.add(call.req);
    try {
      const res = await call.response;
      res.once('close', () => ctx.legs.delete(call.req));
      return { worker, res, release };
    } catch (err) {
      release();
      ctx.legs.delete(call.req);
      if (ctx.aborted) throw new ClientGone();
      const f = err as UpstreamFailure;
      state.metrics.countUpstreamError(leg, worker, f.kind);
      last = f;
      if (!f.retryable) throw new RouteError(502, 'upstream_error', `${legFailed(leg, worker)}: ${f.message}.`, leg, worker);
      if (f.kind === 'connect') {
        worker.markUnreachable(nowMs());
        tried.add(worker);
      }
      state.log.log('warn', `${leg} worker failed before the request reached it; trying again`, { requestId: ctx.trace.requestId, worker: worker.url, error: f.message });
    }
  }
  if (leg === 'prefill') return null;
  if (last) {
    const kind = last.worker.role === 'worker' ? 'worker' : 'decode worker';
    const others = pool.workers.length > 1 ? `and no other ${kind} could take it` : `and it is the only ${kind}`;
    throw new RouteError(502, 'upstream_error', `${legFailed('decode', last.worker)}: ${last.message}, ${others}. Check that the worker is running (handoff status).`, 'decode', last.worker);
  }
  throw new RouteError(503, 'service_unavailable', 'No decode worker is configured.', 'decode', null);
}

/** The D leg (or the only leg in aggregated mode): relays the worker's response as it arrives. */
async function decodeLeg(ctx: RequestContext, pool: WorkerPool, endpoint: GenerationEndpoint, payload: Buffer, headers: Record<string, string>): Promise<void> {
  const leg = 'decode';
  const sent = await sendLeg(ctx, pool, leg, endpoint, payload, headers);
  if (!sent) throw new RouteError(503, 'service_unavailable', 'No decode worker is available.', leg, null);
  const { worker, res: up, release } = sent;
  const status = up.statusCode ?? 0;
  if (status !== 200) {
    let data: Buffer;
    try {
      data = await readUpstreamBody(up, leg, worker);
    } catch (err) {
      data = Buffer.from((err as Error).message);
    } finally {
      release();
    }
    if (ctx.aborted) throw new ClientGone();
    ctx.state.metrics.countUpstreamError(leg, worker, 'http');
    throw httpError(leg, worker, status, data);
  }
  await relay(ctx, worker, up, release);
}

function relay(ctx: RequestContext, worker: Worker, up: http.IncomingMessage, release: () => void): Promise<void> {
  const { res, state } = ctx;
  const t = ctx.trace;
  const outHeaders: Record<string, string | string[]> = { 'x-request-id': t.requestId };
  for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !droppedResponseHeaders.has(k)) outHeaders[k] = v;
  res.writeHead(up.statusCode ?? 200, outHeaders);
  // Send the head now, like vLLM does when a stream starts, rather than with the first chunk.
  res.flushHeaders();
  const isSse = String(up.headers['content-type'] ?? '').includes('text/event-stream');
  const scanner = isSse ? new SseScanner() : null;
  ctx.scanner = scanner;
  const kept: Buffer[] = [];
  let keptBytes = 0;

  return new Promise<void>((resolve) => {
    const onDrain = (): void => {
      up.resume();
    };
    up.on('data', (chunk: Buffer) => {
      if (scanner) scanner.push(chunk, nowMs());
      else if (keptBytes < 8 << 20) {
        kept.push(chunk);
        keptBytes += chunk.length;
      }
      if (!res.write(chunk)) {
        up.pause();
        res.once('drain', onDrain);
      }
    });
    up.on('end', () => {
      release();
      const endAtMs = nowMs();
      res.end();
      if (ctx.aborted) return resolve();
      const usage = scanner ? scanner.finish() : usageOf(keptBytes <= 8 << 20 ? Buffer.concat(kept).toString('utf8') : null);
      if (scanner) {
        t.firstTokenAtMs = scanner.firstTokenAtMs;
        t.lastTokenAtMs = scanner.lastTokenAtMs;
      } else {
        t.firstTokenAtMs = endAtMs;
        t.lastTokenAtMs = endAtMs;
      }
      if (usage.completionTokens !== null) {
        t.outputTokens = usage.completionTokens;
        t.outputTokensSource = 'usage';
      } else if (scanner) {
        t.outputTokens = scanner.tokenChunks;
        t.outputTokensSource = 'chunks';
      }
      if (usage.promptTokens !== null) {
        t.promptTokens = usage.promptTokens;
        t.promptTokensSource = 'usage';
      }
      if (scanner?.errorMessage) {
        state.metrics.countUpstreamError('decode', worker, 'http');
        ctx.finish('error', res.statusCode, { leg: 'decode', worker: worker.url, message: `${worker.label} reported an error inside the stream: ${scanner.errorMessage}` }, 'error');
      } else ctx.finish('ok', res.statusCode, null, 'ok');
      resolve();
    });
    up.on('close', () => {
      if (up.complete) return;
      release();
      res.off('drain', onDrain);
      if (!ctx.aborted) {
        state.metrics.countUpstreamError('decode', worker, 'reset');
        ctx.fail(new RouteError(502, 'upstream_error', `${legFailed('decode', worker)}: ${worker.label} dropped the connection in the middle of the response.`, 'decode', worker));
      }
      resolve();
    });
    // 'error' on a response only follows a broken connection, which 'close' above reports.
    up.on('error', () => {});
  });
}
