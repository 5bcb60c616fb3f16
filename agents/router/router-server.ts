import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseOrThrow } from '../../common/errors';
import { handleGeneration } from './generation-handler';
import { createJsonLog, type JsonLog } from './json-log';
import { openAiError, sendOpenAiError } from './openai-error';
import { RouterMetrics } from './router-metrics';
import { RouterOptions, type RouterOptionsInput } from './router-options';
import type { RouterState } from './router-state';
import { RecentTraces } from './recent-traces';
import { TraceWriter } from './trace-writer';
import { callUpstream, readUpstreamBody, UpstreamFailure } from './upstream-call';
import { Worker, WorkerPool, type WorkerRole } from './worker-pool';

export interface RouterHandle {
  /** http://host:port of the router. */
  readonly url: string;
  readonly port: number;
  readonly state: RouterState;
  close(): Promise<void>;
}

const healthTimeoutMs = 2000;
const TRACES_PATH = '/handoff/traces/';
const maxTraceWaitMs = 30_000;

/** Starts the OpenAI-compatible router of one deployment (aggregated or P/D). */
export async function startRouter(input: RouterOptionsInput, log?: JsonLog): Promise<RouterHandle> {
  const options = parseOrThrow(RouterOptions, input, 'Router options', 'invalid-router-options');
  const pool = (urls: string[], role: WorkerRole): WorkerPool => new WorkerPool(urls.map((u) => new Worker(u, role)));
  const pools = { workers: pool(options.workers, 'worker'), prefill: pool(options.prefill, 'prefill'), decode: pool(options.decode, 'decode') };
  const allWorkers = [...pools.workers.workers, ...pools.prefill.workers, ...pools.decode.workers];
  const state: RouterState = {
    options,
    log: log ?? createJsonLog(options.logLevel, 'router'),
    metrics: new RouterMetrics(() => allWorkers),
    traceWriter: options.traceFile ? new TraceWriter(options.traceFile) : null,
    recentTraces: new RecentTraces(),
    pools,
  };

  const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    dispatch(state, req, res).catch((err: unknown) => {
      state.log.log('error', 'router bug', { error: err instanceof Error ? err.stack : String(err) });
      sendOpenAiError(res, 500, openAiError(500, 'internal_error', 'The router failed unexpectedly.'));
    });
  });
  // Generation requests may stream for many minutes; only the request head has a deadline.
  server.requestTimeout = 0;
  server.on('connection', (s) => s.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  state.log.announce('router listening', {
    url,
    mode: options.mode,
    workers: options.workers,
    prefill: options.prefill,
    decode: options.decode,
    remotePrefillMinTokens: options.remotePrefillMinTokens,
    prefillQueueLimit: options.prefillQueueLimit,
    traceFile: options.traceFile,
  });

  let closed: Promise<void> | null = null;
  return {
    url,
    port,
    state,
    close() {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        for (const p of Object.values(pools)) p.destroy();
        await state.traceWriter?.close();
      })();
      return closed;
    },
  };
}

async function dispatch(state: RouterState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  const route = (allowed: string, run: () => Promise<void>): Promise<void> => {
    if (method === allowed) return run();
    req.resume();
    sendOpenAiError(res, 405, openAiError(405, 'invalid_request_error', `${path} accepts ${allowed} only.`), { allow: allowed });
    return Promise.resolve();
  };
  switch (path) {
    case '/v1/chat/completions':
    case '/v1/completions':
      return route('POST', () => handleGeneration(state, req, res, path));
    case '/v1/models':
      return route('GET', () => models(state, res));
    case '/health':
      return route('GET', () => health(state, res));
    case '/metrics':
      return route('GET', async () => {
        const text = await state.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': state.metrics.registry.contentType });
        res.end(text);
      });
    default:
      if (path?.startsWith(TRACES_PATH)) return route('GET', () => traceById(state, req, res, path.slice(TRACES_PATH.length)));
      req.resume();
      sendOpenAiError(res, 404, openAiError(404, 'not_found_error', `No route ${method} ${path}. The router serves /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics and /handoff/traces/<request id>.`));
  }
}

function neededRoles(state: RouterState): { role: WorkerRole; pool: WorkerPool }[] {
  const { pools } = state;
  return state.options.mode === 'aggregated'
    ? [{ role: 'worker', pool: pools.workers }]
    : [
        { role: 'prefill', pool: pools.prefill },
        { role: 'decode', pool: pools.decode },
      ];
}

async function probe(state: RouterState, w: Worker): Promise<{ ok: boolean; detail: string }> {
  const call = callUpstream({ worker: w, leg: 'router', method: 'GET', path: '/health', headers: {}, body: null, connectTimeoutMs: healthTimeoutMs });
  const timer = setTimeout(() => call.req.destroy(), healthTimeoutMs);
  try {
    const res = await call.response;
    await readUpstreamBody(res, 'router', w, 1 << 20);
    return { ok: res.statusCode === 200, detail: `HTTP ${res.statusCode}` };
  } catch (err) {
    return { ok: false, detail: err instanceof UpstreamFailure && err.kind === 'connect' ? err.message : `no answer within ${healthTimeoutMs} ms` };
  } finally {
    clearTimeout(timer);
  }
}

/** 200 when at least one worker of each role the mode needs answers its /health with 200. */
async function health(state: RouterState, res: http.ServerResponse): Promise<void> {
  const roles = neededRoles(state);
  const results = await Promise.all(
    roles.flatMap(({ role, pool }) =>
      pool.workers.map(async (w) => {
        const r = await probe(state, w);
        return { url: w.url, role, healthy: r.ok, detail: r.detail, outstanding: w.outstanding };
      }),
    ),
  );
  const missing = roles.filter(({ role }) => !results.some((r) => r.role === role && r.healthy)).map((r) => r.role);
  const ok = missing.length === 0;
  const body = JSON.stringify({
    status: ok ? 'ok' : 'unavailable',
    mode: state.options.mode,
    ...(ok ? {} : { message: `No healthy ${missing.map((r) => (r === 'worker' ? 'worker' : `${r} worker`)).join(' or ')} answers /health.` }),
    workers: results,
  });
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
  res.end(body);
}

/** The model list of the first worker that answers (decode workers first: they serve the output). */
async function models(state: RouterState, res: http.ServerResponse): Promise<void> {
  const { pools } = state;
  const order = [...pools.workers.workers, ...pools.decode.workers, ...pools.prefill.workers];
  const failures: string[] = [];
  for (const w of order) {
    const call = callUpstream({ worker: w, leg: 'router', method: 'GET', path: '/v1/models', headers: {}, body: null, connectTimeoutMs: healthTimeoutMs });
    try {
      const up = await call.response;
      const data = await readUpstreamBody(up, 'router', w, 4 << 20);
      if (up.statusCode === 200) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': data.length });
        res.end(data);
        return;
      }
      failures.push(`${w.url} answered HTTP ${up.statusCode}`);
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  sendOpenAiError(res, 503, openAiError(503, 'service_unavailable', `No worker listed its models: ${failures.join('; ')}.`));
}

/**
 * GET /handoff/traces/<requestId>[?waitMs=N]: the trace of a recent request (the last 1000 are
 * kept), waiting up to N ms for a request still in flight. 404 when unknown.
 */
async function traceById(state: RouterState, req: http.IncomingMessage, res: http.ServerResponse, rawId: string): Promise<void> {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    sendOpenAiError(res, 400, openAiError(400, 'invalid_request_error', 'The request id in the path is not valid percent-encoding.'));
    return;
  }
  const wait = new URL(req.url ?? '/', 'http://router').searchParams.get('waitMs');
  const waitMs = wait === null ? 0 : Number(wait);
  if (id.length === 0 || !Number.isInteger(waitMs) || waitMs < 0) {
    sendOpenAiError(res, 400, openAiError(400, 'invalid_request_error', `Use GET ${TRACES_PATH}<request id>[?waitMs=N] with N a whole number of milliseconds.`, id.length === 0 ? 'requestId' : 'waitMs'));
    return;
  }
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  const trace = await state.recentTraces.wait(id, Math.min(waitMs, maxTraceWaitMs), gone.signal);
  if (res.destroyed) return;
  if (!trace) {
    sendOpenAiError(res, 404, openAiError(404, 'not_found_error', `No trace for request ${id}: it is still running, never reached this router, or is older than the last ${state.recentTraces.capacity} requests.`, 'requestId'));
    return;
  }
  const body = JSON.stringify(trace);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
