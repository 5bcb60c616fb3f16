/**
 * The mocker's vLLM-compatible HTTP API on node:http (reference/vllm-disagg.md §4): health, version,
 * models, tokenize, completions and chat completions (streaming and not), metrics. Shapes follow
 * vLLM 0.32; every response carries `x-handoff-mocker: simulated` and the fields that allow it say
 * so too (model owned_by, system_fingerprint, /version's local version label).
 */
import http from 'node:http';
import { z } from 'zod';
import type { Engine, EngineRequest } from './engine';
import type { MockerConfig } from './mocker-options';
import type { MockerLog } from './mocker-log';
import type { MockerMetrics } from './metrics';
import type { NixlSim } from './nixl-sim';
import { RemotePrefillParams, flattenBlockIds } from './nixl-sim';
import {
  ChatCompletionRequest,
  ChunkWriter,
  CompletionRequest,
  DetokenizeRequest,
  TokenizeChatRequest,
  TokenizeCompletionRequest,
  TokenizeRequest,
  chatResponse,
  completionResponse,
  errorBody,
  jsonInvalidBody,
  pythonJsonDumps,
  usageOf,
  validationErrorBody,
  zodIssuesToValidation,
  type ErrorBody,
  type ResponseIdentity,
  type Usage,
} from './openai-protocol';
import { decode, encode, encodeChat, isKnownTokenId, tokenText, type ChatMessageLike } from './tokenizer';
import { seededHex, seededUuid } from './seeded-random';

const MAX_BODY_BYTES = 64 * 1024 * 1024;
export const SIMULATED_HEADER = { 'x-handoff-mocker': 'simulated' } as const;

export interface ServerDeps {
  cfg: MockerConfig;
  engine: Engine;
  metrics: MockerMetrics;
  nixl: NixlSim | null;
  log: MockerLog;
  rng: () => number;
  systemFingerprint: string;
  startedAtS: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error.message);
  }
}

function badRequest(message: string, param: string | null = null): HttpError {
  return new HttpError(400, errorBody(message, 'BadRequestError', 400, param));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...SIMULATED_HEADER });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, errorBody(`Request body larger than ${MAX_BODY_BYTES} bytes.`, 'Request Entity Too Large', 413)));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a JSON body the way FastAPI + vLLM's validate_json_request do, as vLLM errors. */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const media = (req.headers['content-type'] ?? '').toLowerCase().split(';')[0]!.trim();
  const raw = await readBody(req);
  if (media !== 'application/json') {
    throw new HttpError(400, errorBody("1 validation error:\n  Unsupported Media Type: Only 'application/json' is allowed", 'Bad Request', 400, null));
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
    throw new HttpError(400, jsonInvalidBody(raw.trim() === '' ? 'Expecting value' : err instanceof Error ? err.message : 'Invalid JSON', m ? Number(m[1]) : 0));
  }
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, validationErrorBody(zodIssuesToValidation(r.error, body)));
  return r.data;
}

/**
 * vLLM's VLLMValidationError as the client sees it: a plain 400 BadRequestError whose message ends
 * with "(parameter=…, value=…)" (vllm/exceptions.py). Raised in a pydantic before-validator it is
 * not wrapped as a validation error: the real 0.32 server answers the missing-prompt and
 * stream_options cases exactly like this.
 */
function vllmValidationError(message: string, parameter: string | null = null, value: number | string | null = null): HttpError {
  const extras = [...(parameter !== null ? [`parameter=${parameter}`] : []), ...(value !== null ? [`value=${value}`] : [])];
  return badRequest(extras.length ? `${message} (${extras.join(', ')})` : message, parameter);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p !== null && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('\n');
  }
  return '';
}

export function createMockerServer(d: ServerDeps): http.Server {
  const { cfg } = d;
  // Streams with bytes produced during the current engine turn; written once per turn (one
  // syscall per stream per step, fewer when zero-latency steps run back to back).
  const pending = new Map<http.ServerResponse, { data: string; end: boolean }>();
  const queue = (res: http.ServerResponse, data: string, end: boolean): void => {
    const p = pending.get(res);
    if (p) {
      p.data += data;
      p.end ||= end;
    } else pending.set(res, { data, end });
  };
  d.engine.onTurnEnd = () => {
    for (const [res, p] of pending) {
      if (res.destroyed) continue;
      if (p.end) res.end(p.data);
      else res.write(p.data);
    }
    pending.clear();
  };
  const servedName = cfg.servedModelNames[0]!;

  const checkModel = (model: string | null | undefined): void => {
    if (!model || cfg.servedModelNames.includes(model)) return;
    throw new HttpError(404, errorBody(`The model \`${model}\` does not exist. Valid aliases: ${cfg.servedModelNames.join(', ')}.`, 'NotFoundError', 404, 'model'));
  };

  const checkAuth = (req: http.IncomingMessage, path: string): boolean => {
    if (!cfg.apiKey || !path.startsWith('/v1')) return true;
    return req.headers['authorization'] === `Bearer ${cfg.apiKey}`;
  };

  async function generate(kind: 'completion' | 'chat', req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readJson(req);
    let promptIds: number[];
    let r: CompletionRequest | ChatCompletionRequest;
    let maxTokensParam: number | null | undefined;
    // Text is tokenized with truncation at max_model_len + 1, so vLLM can only say "at least" that many.
    let promptIsText = true;
    if (kind === 'completion') {
      const c = parseWith(CompletionRequest, body);
      r = c;
      if (c.stream_options && !c.stream) throw vllmValidationError('Stream options can only be defined when `stream=True`.', 'stream_options');
      const prompt = c.prompt;
      if (prompt === null || prompt === undefined || prompt === '' || (Array.isArray(prompt) && prompt.length === 0)) {
        throw vllmValidationError('Either prompt or prompt_embeds must be provided and non-empty.', 'prompt');
      }
      checkModel(c.model);
      if (typeof prompt === 'string') promptIds = encode(prompt, c.add_special_tokens ?? true);
      else if (prompt.every((x): x is number => typeof x === 'number')) {
        promptIds = prompt;
        promptIsText = false;
      }
      else if (prompt.length === 1 && typeof prompt[0] === 'string') promptIds = encode(prompt[0], c.add_special_tokens ?? true);
      else if (prompt.length === 1 && Array.isArray(prompt[0])) {
        promptIds = prompt[0];
        promptIsText = false;
      }
      else throw badRequest('The simulated engine (Handoff mocker) serves one prompt per request; send a batch as separate requests.', 'prompt');
      if (c.echo) throw badRequest('echo is not supported by the simulated engine (Handoff mocker).', 'echo');
      if (c.logprobs !== null && c.logprobs !== undefined) throw badRequest('logprobs are not supported by the simulated engine (Handoff mocker).', 'logprobs');
      maxTokensParam = c.max_tokens ?? 16;
    } else {
      const c = parseWith(ChatCompletionRequest, body);
      r = c;
      if (c.stream_options && !c.stream) throw vllmValidationError('Stream options can only be defined when `stream=True`.', 'stream_options');
      checkModel(c.model);
      if (c.logprobs) throw badRequest('logprobs are not supported by the simulated engine (Handoff mocker).', 'logprobs');
      const messages: ChatMessageLike[] = c.messages.map((m) => ({ role: m.role, content: contentText(m.content) }));
      promptIds = encodeChat(messages, c.add_generation_prompt ?? true, c.add_special_tokens ?? false);
      maxTokensParam = c.max_completion_tokens ?? c.max_tokens ?? null;
    }
    if ((r.n ?? 1) !== 1) throw badRequest('n > 1 is not supported by the simulated engine (Handoff mocker); send n separate requests.', 'n');
    if (r.use_beam_search) throw badRequest('Beam search is not supported by the simulated engine (Handoff mocker).', 'use_beam_search');
    for (const id of promptIds) if (!Number.isInteger(id) || id < 0) throw badRequest(`Token id ${id} is out of vocabulary.`, 'prompt');

    const promptLen = promptIds.length;
    if (promptLen > cfg.maxModelLen) {
      const counted = promptIsText ? cfg.maxModelLen + 1 : promptLen;
      throw vllmValidationError(
        `This model's maximum context length is ${cfg.maxModelLen} tokens. However, your prompt contains ${promptIsText ? 'at least ' : ''}${counted} input tokens, which exceeds this limit even without any output tokens. Please reduce the length of the input prompt.`,
        'input_tokens',
        counted,
      );
    }
    if (maxTokensParam !== null && maxTokensParam !== undefined && maxTokensParam > cfg.maxModelLen) {
      throw vllmValidationError(`max_tokens=${maxTokensParam} cannot be greater than max_model_len=${cfg.maxModelLen}. Please request fewer output tokens.`, 'max_tokens', maxTokensParam);
    }
    if (cfg.contextOverflow === 'error' && maxTokensParam != null && promptLen + maxTokensParam > cfg.maxModelLen) {
      throw badRequest(
        `This model's maximum context length is ${cfg.maxModelLen} tokens. However, you requested ${promptLen + maxTokensParam} tokens (${promptLen} in the messages, ${maxTokensParam} in the completion). Please reduce the length of the messages or completion.`,
      );
    }
    // vLLM ≥ 0.2x clamps max_tokens to what is left of the context (get_max_tokens).
    const maxTokens = Math.min(maxTokensParam ?? cfg.maxModelLen - promptLen, cfg.maxModelLen - promptLen);
    if (maxTokens < 1) throw vllmValidationError(`max_tokens must be at least 1, got ${maxTokens}.`, 'max_tokens', maxTokens);
    const minTokens = r.min_tokens ?? (kind === 'chat' ? (r as ChatCompletionRequest).min_completion_tokens : undefined) ?? 0;
    if (minTokens > maxTokens) throw badRequest(`min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`);
    const stop = r.stop === null || r.stop === undefined ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop;

    // P/D (reference §2): the connector keys off do_remote_decode / do_remote_prefill.
    let remoteDecode = false;
    let remotePrefill: Record<string, unknown> | null = null;
    const kvp = r.kv_transfer_params;
    if (kvp && d.nixl) {
      const role = cfg.connector?.role;
      if (kvp['do_remote_decode'] === true && role !== 'kv_consumer') remoteDecode = true;
      if (kvp['do_remote_prefill'] === true) {
        const p = RemotePrefillParams.safeParse(kvp);
        if (p.success && flattenBlockIds(p.data.remote_block_ids).length > 0) remotePrefill = p.data;
        else if (!p.success && Array.isArray(kvp['remote_block_ids']) && (kvp['remote_block_ids'] as unknown[]).length > 0) {
          d.log.warn(`Got invalid KVTransferParams: ${JSON.stringify(kvp)}. This request will not utilize KVTransfer`);
        }
      }
    }

    const headerId = req.headers['x-request-id'];
    // vLLM's random_uuid(): 16 hex digits ("cmpl-94c84f684256f822" from the real 0.32 server).
    const baseId = (typeof headerId === 'string' && headerId) || r.request_id || seededHex(d.rng, 16);
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${baseId}`;
    const engineId = kind === 'chat' ? `${id}-${seededHex(d.rng, 8)}` : `${id}-0-${seededHex(d.rng, 8)}`;
    const ident: ResponseIdentity = { id, created: Math.floor(Date.now() / 1000), model: servedName, systemFingerprint: d.systemFingerprint };
    const streaming = r.stream === true;
    const includeUsage = cfg.enableForceIncludeUsage || (streaming && !!r.stream_options?.include_usage);
    const continuousUsage = cfg.enableForceIncludeUsage || (includeUsage && !!r.stream_options?.continuous_usage_stats);
    const remoteCached = remotePrefill !== null && Number.isInteger(kvp?.['remote_prefill_cached_tokens']) ? (kvp!['remote_prefill_cached_tokens'] as number) : null;
    const usageFor = (engineReq: EngineRequest): Usage =>
      usageOf(promptLen, engineReq.output.length, cfg.enablePromptTokensDetails ? (remoteCached ?? engineReq.localCacheHitTokens + engineReq.externalTokens) : null);

    let engineReq: EngineRequest | null = null;
    let done = false;
    const writer = new ChunkWriter(kind, ident);
    let roleSent = false;
    let text = '';
    if (streaming) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...SIMULATED_HEADER });
      res.flushHeaders();
    }
    res.on('close', () => {
      if (!done && engineReq) d.engine.abort(engineReq);
    });

    engineReq = d.engine.add({
      requestId: engineId,
      promptTokenIds: promptIds,
      maxTokens,
      minTokens,
      ignoreEos: r.ignore_eos ?? false,
      stop,
      includeStopStrInOutput: r.include_stop_str_in_output ?? false,
      remoteDecode,
      remotePrefill,
      maxTokensParam: maxTokensParam ?? maxTokens,
      sink: {
        onTokens: (ev) => {
          if (res.destroyed) return;
          const er = engineReq!;
          if (!streaming) {
            text += ev.text;
            if (ev.finishReason === null) return;
            done = true;
            if (ev.finishReason === 'abort') return;
            const usage = usageFor(er);
            const kvOut = er.kvTransferParams;
            sendJson(res, 200, kind === 'chat' ? chatResponse(ident, text, ev.finishReason, ev.stopReason, usage, kvOut) : completionResponse(ident, text, ev.finishReason, ev.stopReason, usage, kvOut));
            return;
          }
          let out = '';
          if (kind === 'chat' && !roleSent) {
            roleSent = true;
            out += writer.roleChunk();
          }
          const usage = continuousUsage ? usageFor(er) : undefined;
          if (out && usage) out = writer.roleChunk(usage);
          if (ev.finishReason === null) {
            queue(res, out + writer.token(ev.text, usage), false);
            return;
          }
          done = true;
          if (ev.finishReason === 'abort') return void queue(res, '', true);
          out += writer.final(ev.text, ev.finishReason, ev.stopReason, usage, !includeUsage);
          if (includeUsage) out += writer.usageChunk(usageFor(er));
          queue(res, out + 'data: [DONE]\n\n', true);
        },
        onError: (message) => {
          done = true;
          if (res.destroyed) return;
          const err = errorBody(message, 'InternalServerError', 500);
          if (!streaming) return sendJson(res, 500, err);
          let out = '';
          if (kind === 'chat' && !roleSent) out += writer.roleChunk();
          res.end(`${out}data: ${pythonJsonDumps(err)}\n\ndata: [DONE]\n\n`);
        },
      },
    });
  }

  async function tokenize(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readJson(req);
    const t = parseWith(TokenizeRequest, body);
    checkModel(t.model);
    let tokens: number[];
    if ('messages' in t && Array.isArray(t.messages)) {
      const chat = parseWith(TokenizeChatRequest, body);
      tokens = encodeChat(
        chat.messages.map((m) => ({ role: m.role, content: contentText(m.content) })),
        chat.add_generation_prompt ?? true,
        chat.add_special_tokens ?? false,
      );
    } else {
      const c = parseWith(TokenizeCompletionRequest, body);
      tokens = encode(c.prompt, c.add_special_tokens ?? true);
    }
    sendJson(res, 200, { count: tokens.length, max_model_len: cfg.maxModelLen, tokens, token_strs: t.return_token_strs ? tokens.map((x) => tokenText(x, false)) : null });
  }

  async function detokenize(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readJson(req);
    const t = parseWith(DetokenizeRequest, body);
    checkModel(t.model);
    const bad = t.tokens.find((x) => !isKnownTokenId(x));
    if (bad !== undefined && bad >= cfg.model.vocabSize) throw badRequest(`Token id ${bad} is out of vocabulary`, 'tokens');
    sendJson(res, 200, { prompt: decode(t.tokens.filter(isKnownTokenId)) });
  }

  function models(res: http.ServerResponse): void {
    const created = Math.floor(Date.now() / 1000);
    sendJson(res, 200, {
      object: 'list',
      data: cfg.servedModelNames.map((name) => ({
        id: name,
        object: 'model',
        created,
        owned_by: 'handoff-mocker (simulated, no GPU)',
        root: cfg.modelPath,
        parent: null,
        max_model_len: cfg.maxModelLen,
        permission: [
          {
            id: `modelperm-${seededUuid(d.rng).replace(/-/g, '')}`,
            object: 'model_permission',
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      })),
    });
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (!checkAuth(req, path)) {
      sendJson(res, 401, { error: 'Unauthorized' });
      return;
    }
    const routes: Record<string, Record<string, () => Promise<void> | void>> = {
      '/health': { GET: () => void res.writeHead(200, { 'content-length': 0, ...SIMULATED_HEADER }).end() },
      '/ping': {
        GET: () => void res.writeHead(200, { 'content-length': 0, ...SIMULATED_HEADER }).end(),
        POST: () => void res.writeHead(200, { 'content-length': 0, ...SIMULATED_HEADER }).end(),
      },
      // A PEP 440 local version label keeps it parseable as the vLLM version it imitates.
      '/version': { GET: () => sendJson(res, 200, { version: `${cfg.vllmVersion}+handoff.mocker.simulated` }) },
      '/v1/models': { GET: () => models(res) },
      '/load': { GET: () => sendJson(res, 200, { server_load: d.engine.stats().running + d.engine.stats().waiting }) },
      '/metrics': {
        GET: async () => {
          const s = d.engine.stats();
          d.metrics.set(d.metrics.running, s.running);
          d.metrics.set(d.metrics.waiting, s.waiting);
          d.metrics.set(d.metrics.kvUsage, s.kvUsage);
          const text = await d.metrics.text();
          res.writeHead(200, { 'content-type': d.metrics.registry.contentType, 'content-length': Buffer.byteLength(text), ...SIMULATED_HEADER });
          res.end(text);
        },
      },
      '/tokenize': { POST: () => tokenize(req, res) },
      '/detokenize': { POST: () => detokenize(req, res) },
      '/v1/completions': { POST: () => generate('completion', req, res) },
      '/v1/chat/completions': { POST: () => generate('chat', req, res) },
    };
    const r = routes[path];
    if (!r) {
      req.resume();
      // Unknown routes never reach vLLM's handlers: Starlette answers with FastAPI's default body.
      sendJson(res, 404, { detail: 'Not Found' });
      return;
    }
    const h = r[method];
    if (!h) {
      req.resume();
      sendJson(res, 405, { detail: 'Method Not Allowed' });
      return;
    }
    await h();
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, err.body);
      else {
        d.log.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        sendJson(res, 500, errorBody(err instanceof Error ? err.message : String(err), 'InternalServerError', 500));
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  server.maxConnections = 100_000;
  return server;
}
