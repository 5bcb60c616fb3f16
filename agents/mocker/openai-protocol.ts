/**
 * Request schemas and response/error bodies of vLLM's OpenAI server (0.32: entrypoints/openai/
 * completion/protocol.py, chat_completion/protocol.py, serve/engine/protocol.py). Field order
 * follows the pydantic classes because vLLM's JSON follows it. Streaming chunks are dumped by vLLM
 * with `exclude_unset=True`, so each chunk kind has exactly the keys vLLM's serving code sets.
 * Extra request fields are allowed (vLLM's OpenAIBaseModel has extra="allow").
 */
import { z } from 'zod';

const StopParam = z.union([z.string(), z.array(z.string())]).nullable().optional();

const StreamOptions = z
  .object({
    include_usage: z.boolean().nullable().optional(),
    continuous_usage_stats: z.boolean().nullable().optional(),
  })
  .passthrough();

/** Fields common to completion and chat requests that the mocker acts on. */
const common = {
  model: z.string().nullable().optional(),
  max_tokens: z.number().int().nullable().optional(),
  // The toy proxy restores these as null on the D leg; vLLM 0.32 types min_tokens as int, but the
  // mocker accepts null as "not set" (the issue asks for it; see docs/mocker.md for the difference).
  min_tokens: z.number().int().min(0).nullable().optional(),
  min_completion_tokens: z.number().int().min(0).nullable().optional(),
  ignore_eos: z.boolean().nullable().optional(),
  stop: StopParam,
  include_stop_str_in_output: z.boolean().optional(),
  n: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: StreamOptions.nullable().optional(),
  kv_transfer_params: z.record(z.string(), z.unknown()).nullable().optional(),
  request_id: z.string().optional(),
  use_beam_search: z.boolean().optional(),
  seed: z.number().int().nullable().optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  add_special_tokens: z.boolean().optional(),
};

export const CompletionRequest = z
  .object({
    ...common,
    prompt: z.union([z.string(), z.array(z.number().int()), z.array(z.string()), z.array(z.array(z.number().int()))]).nullable().optional(),
    echo: z.boolean().nullable().optional(),
    logprobs: z.number().int().nullable().optional(),
    suffix: z.string().nullable().optional(),
  })
  .passthrough();
export type CompletionRequest = z.infer<typeof CompletionRequest>;

const ContentPart = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
export const ChatMessageParam = z
  .object({
    role: z.string(),
    content: z.union([z.string(), z.array(ContentPart)]).nullable().optional(),
  })
  .passthrough();

export const ChatCompletionRequest = z
  .object({
    ...common,
    messages: z.array(ChatMessageParam),
    max_completion_tokens: z.number().int().nullable().optional(),
    logprobs: z.boolean().nullable().optional(),
    add_generation_prompt: z.boolean().optional(),
    echo: z.boolean().optional(),
  })
  .passthrough();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const TokenizeCompletionRequest = z
  .object({ model: z.string().nullable().optional(), prompt: z.string(), add_special_tokens: z.boolean().optional(), return_token_strs: z.boolean().nullable().optional() })
  .passthrough();
export const TokenizeChatRequest = z
  .object({
    model: z.string().nullable().optional(),
    messages: z.array(ChatMessageParam),
    add_generation_prompt: z.boolean().optional(),
    add_special_tokens: z.boolean().optional(),
    return_token_strs: z.boolean().nullable().optional(),
  })
  .passthrough();
export const TokenizeRequest = z.union([TokenizeCompletionRequest, TokenizeChatRequest]);

export const DetokenizeRequest = z.object({ model: z.string().nullable().optional(), tokens: z.array(z.number().int().min(0)) }).passthrough();

// ---- errors ----

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export function errorBody(message: string, type: string, code: number, param: string | null = null): ErrorBody {
  return { error: { message, type, param, code } };
}

/** Python's repr of a str, as it appears inside vLLM's validation messages. */
function pyRepr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** Python's repr of a JSON-ish input value, abbreviated the way vLLM's handler does. */
function pyInput(v: unknown): string {
  if (v === undefined) return '{}';
  if (typeof v === 'string') return pyRepr(v.length > 200 ? v.slice(0, 200) + '...[truncated]' : v);
  if (Array.isArray(v)) return pyRepr(`<list of ${v.length} items>`);
  if (v !== null && typeof v === 'object') return pyRepr(`<dict of ${Object.keys(v).length} items>`);
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

export interface ValidationIssue {
  type: string;
  loc: string;
  msg: string;
  input: unknown;
}

/**
 * FastAPI's RequestValidationError as vLLM 0.32 reports it: HTTP 400, type "Bad Request",
 * message "N validation error(s):\n  {…python repr…}", param = cleaned location.
 */
export function validationErrorBody(issues: ValidationIssue[], param?: string | null): ErrorBody {
  const label = issues.length === 1 ? 'error' : 'errors';
  const lines = issues.slice(0, 10).map((i) => `  {'type': ${pyRepr(i.type)}, 'loc': ${pyRepr(i.loc)}, 'msg': ${pyRepr(i.msg)}, 'input': ${pyInput(i.input)}}`);
  const message = `${issues.length} validation ${label}:\n${lines.join('\n')}`;
  return errorBody(message, 'Bad Request', 400, param === undefined ? (issues[0]?.loc ?? null) : param);
}

const PYDANTIC_TYPES: Record<string, [string, string]> = {
  array: ['list_type', 'Input should be a valid list'],
  string: ['string_type', 'Input should be a valid string'],
  object: ['dict_type', 'Input should be a valid dictionary'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
};

export function zodIssuesToValidation(err: z.ZodError, body: unknown): ValidationIssue[] {
  return err.issues.map((i) => {
    const loc = ['body', ...i.path.map(String)].join('.');
    let input: unknown = body;
    for (const p of i.path) input = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[String(p)] : undefined;
    let type = 'value_error';
    let msg = i.message;
    if (i.code === 'invalid_type') {
      // pydantic's names and wording for the JSON types (a list body field: 'list_type',
      // "Input should be a valid list", as the real vLLM 0.32 server answers).
      const py = input === undefined ? undefined : PYDANTIC_TYPES[i.expected];
      if (input === undefined) [type, msg] = ['missing', 'Field required'];
      else if (py) [type, msg] = py;
      else type = `${i.expected === 'number' ? 'int' : i.expected}_type`;
    }
    if (i.code === 'invalid_union') type = 'union_type';
    if (i.code === 'too_small') type = 'greater_than_equal';
    return { type, loc, msg, input };
  });
}

/** JSON body that is not JSON: FastAPI reports `json_invalid` at body.<offset>. */
export function jsonInvalidBody(detail: string, offset: number): ErrorBody {
  const message = `1 validation error:\n  {'type': 'json_invalid', 'loc': 'body.${offset}', 'msg': 'JSON decode error', 'input': '<dict of 0 items>', 'ctx': {'error': ${pyRepr(detail)}}}`;
  return errorBody(message, 'Bad Request', 400, `body.${offset}`);
}

// ---- responses ----

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number; created_cache_tokens: null; multimodal_tokens: null } | null;
  completion_tokens_details: null;
}

export function usageOf(promptTokens: number, completionTokens: number, cachedTokens: number | null): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: cachedTokens === null ? null : { cached_tokens: cachedTokens, created_cache_tokens: null, multimodal_tokens: null },
    completion_tokens_details: null,
  };
}

/** The final usage chunk drops None fields (model_dump_json(exclude_none=True)). */
export function usageNoNulls(u: Usage): Record<string, unknown> {
  const out: Record<string, unknown> = { prompt_tokens: u.prompt_tokens, total_tokens: u.total_tokens, completion_tokens: u.completion_tokens };
  if (u.prompt_tokens_details) out['prompt_tokens_details'] = { cached_tokens: u.prompt_tokens_details.cached_tokens };
  return out;
}

export interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string | null;
}

export function completionResponse(
  ident: ResponseIdentity,
  text: string,
  finishReason: string,
  stopReason: string | null,
  usage: Usage,
  kvTransferParams: Record<string, unknown> | null,
): Record<string, unknown> {
  return {
    id: ident.id,
    object: 'text_completion',
    created: ident.created,
    model: ident.model,
    choices: [
      { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: stopReason, token_ids: null, prompt_logprobs: null, prompt_token_ids: null, routed_experts: null },
    ],
    service_tier: null,
    system_fingerprint: ident.systemFingerprint,
    usage,
    kv_transfer_params: kvTransferParams,
    ec_transfer_params: null,
    metrics: null,
  };
}

export function chatResponse(
  ident: ResponseIdentity,
  content: string,
  finishReason: string,
  stopReason: string | null,
  usage: Usage,
  kvTransferParams: Record<string, unknown> | null,
): Record<string, unknown> {
  return {
    id: ident.id,
    object: 'chat.completion',
    created: ident.created,
    model: ident.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: null, audio: null, function_call: null, reasoning: null },
        logprobs: null,
        finish_reason: finishReason,
        stop_reason: stopReason,
        token_ids: null,
        routed_experts: null,
      },
    ],
    service_tier: null,
    system_fingerprint: ident.systemFingerprint,
    usage,
    prompt_logprobs: null,
    prompt_token_ids: null,
    prompt_text: null,
    kv_transfer_params: kvTransferParams,
    ec_transfer_params: null,
    metrics: null,
  };
}

/**
 * Builds streaming chunk strings without a JSON.stringify per token: the constant head and tail of
 * each chunk kind are serialised once per request and only the text is escaped per token.
 */
export class ChunkWriter {
  private readonly head: string;
  private readonly tailNull: string;

  constructor(
    private readonly kind: 'completion' | 'chat',
    private readonly ident: ResponseIdentity,
  ) {
    const idPart = `{"id":${JSON.stringify(ident.id)},"object":${kind === 'chat' ? '"chat.completion.chunk"' : '"text_completion"'},"created":${ident.created},"model":${JSON.stringify(ident.model)},"choices":[{"index":0,`;
    this.head = idPart;
    this.tailNull = kind === 'chat' ? `},"logprobs":null,"finish_reason":null,"token_ids":null}]}` : `,"logprobs":null,"finish_reason":null,"stop_reason":null,"prompt_token_ids":null,"token_ids":null}]}`;
  }

  /** Chat only: the first chunk, with the role and empty content (and usage so far when continuous). */
  roleChunk(usage?: Usage): string {
    const u = usage ? `,"usage":${JSON.stringify({ prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens, completion_tokens: 0, completion_tokens_details: null })}` : '';
    return `data: ${this.head}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${u},"prompt_token_ids":null,"prompt_text":null}\n\n`;
  }

  token(text: string, usage?: Usage): string {
    const t = JSON.stringify(text);
    const body = this.kind === 'chat' ? `${this.head}"delta":{"content":${t}${this.tailNull}` : `${this.head}"text":${t}${this.tailNull}`;
    return `data: ${usage ? this.withUsage(body, usage) : body}\n\n`;
  }

  /**
   * The chunk with the finish reason. vLLM 0.32 stamps system_fingerprint on it when no usage chunk
   * follows (`stampFingerprint`), as the real server's streams show; otherwise the usage chunk has it.
   */
  final(text: string, finishReason: string, stopReason: string | null, usage?: Usage, stampFingerprint = false): string {
    let body = this.body(JSON.stringify(text), finishReason, stopReason);
    if (usage) body = this.withUsage(body, usage);
    if (stampFingerprint && this.ident.systemFingerprint !== null) body = `${body.slice(0, -1)},"system_fingerprint":${JSON.stringify(this.ident.systemFingerprint)}}`;
    return `data: ${body}\n\n`;
  }

  usageChunk(usage: Usage): string {
    const obj = {
      id: this.ident.id,
      object: this.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created: this.ident.created,
      model: this.ident.model,
      choices: [],
      usage: usageNoNulls(usage),
      ...(this.ident.systemFingerprint === null ? {} : { system_fingerprint: this.ident.systemFingerprint }),
    };
    return `data: ${JSON.stringify(obj)}\n\n`;
  }

  private body(textJson: string, finishReason: string | null, stopReason: string | null): string {
    const fr = finishReason === null ? 'null' : JSON.stringify(finishReason);
    const sr = stopReason === null ? 'null' : JSON.stringify(stopReason);
    return this.kind === 'chat'
      ? `${this.head}"delta":{"content":${textJson}},"logprobs":null,"finish_reason":${fr},"stop_reason":${sr},"token_ids":null}]}`
      : `${this.head}"text":${textJson},"logprobs":null,"finish_reason":${fr},"stop_reason":${sr},"prompt_token_ids":null,"token_ids":null}]}`;
  }

  /** continuous_usage_stats: usage on every chunk (it sits after choices in the class). */
  private withUsage(body: string, usage: Usage): string {
    const u = { prompt_tokens: usage.prompt_tokens, total_tokens: usage.total_tokens, completion_tokens: usage.completion_tokens };
    return `${body.slice(0, -1)},"usage":${JSON.stringify(this.kind === 'chat' ? { ...u, completion_tokens_details: null } : u)}}`;
  }
}

/** vLLM writes mid-stream errors with json.dumps defaults (", " and ": " separators). */
export function pythonJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${JSON.stringify(k)}: ${pythonJsonDumps(x)}`)
    .join(', ')}}`;
}
