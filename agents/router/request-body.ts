import { z } from 'zod';
import { describeZodError } from '../../common/errors';

export type GenerationEndpoint = '/v1/chat/completions' | '/v1/completions';

// Only what the router relies on is checked; every other field passes through untouched to vLLM,
// which validates the rest and answers with its own 400.
const Common = {
  model: z.string().optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({}).loose().nullish(),
  max_tokens: z.number().int().nonnegative().nullish(),
  max_completion_tokens: z.number().int().nonnegative().nullish(),
};

const ChatBody = z
  .object({
    ...Common,
    messages: z.array(z.object({ role: z.string() }).loose()).min(1, 'at least one message is required'),
  })
  .loose();

const TokenIds = z.array(z.number().int().nonnegative());
const CompletionBody = z
  .object({
    ...Common,
    prompt: z.union([z.string(), TokenIds.min(1), z.array(z.union([z.string(), TokenIds])).min(1)], {
      error: 'prompt must be a string, a list of token ids, or a list of those',
    }),
  })
  .loose();

export type ParsedBody = { ok: true; body: Record<string, unknown> } | { ok: false; message: string; param: string | null };

/** Parses a client's generation request body; failures carry a message for a 400. */
export function parseGenerationBody(endpoint: GenerationEndpoint, raw: Buffer): ParsedBody {
  if (raw.length === 0) return { ok: false, message: 'The request body is empty; send a JSON object.', param: null };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return { ok: false, message: `The request body is not valid JSON (${err instanceof Error ? err.message : String(err)}).`, param: null };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, message: 'The request body must be a JSON object.', param: null };
  const schema = endpoint === '/v1/chat/completions' ? ChatBody : CompletionBody;
  const r = schema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return { ok: false, message: describeZodError('Invalid request body', r.error), param: first && first.path.length ? first.path.join('.') : null };
  }
  return { ok: true, body: json as Record<string, unknown> };
}

/**
 * The prefill (P) leg body, as reference/vllm-disagg.md §2.2: ask for remote decode, one token,
 * non-streaming (only non-streaming responses carry kv_transfer_params), and without the
 * min-token fields the prefill side does not support. The original body is left untouched for D.
 */
export function prefillLegBody(body: Record<string, unknown>): Record<string, unknown> {
  const p: Record<string, unknown> = {
    ...body,
    kv_transfer_params: {
      do_remote_decode: true,
      do_remote_prefill: false,
      remote_engine_id: null,
      remote_block_ids: null,
      remote_host: null,
      remote_port: null,
    },
    stream: false,
    max_tokens: 1,
  };
  if ('max_completion_tokens' in p) p.max_completion_tokens = 1;
  delete p.stream_options;
  delete p.min_tokens;
  delete p.min_completion_tokens;
  return p;
}

/** The decode (D) leg body: the client's request plus the prefill worker's kv_transfer_params, verbatim (§2.4). */
export function decodeLegBody(body: Record<string, unknown>, kvTransferParams: Record<string, unknown>): Record<string, unknown> {
  return { ...body, kv_transfer_params: kvTransferParams };
}

/** Number of block ids in remote_block_ids: a flat list, or (newest vLLM) one list per KV-cache group. */
export function countKvBlocks(kv: Record<string, unknown>): number | null {
  const ids = kv.remote_block_ids;
  if (!Array.isArray(ids)) return null;
  let n = 0;
  for (const x of ids) n += Array.isArray(x) ? x.length : 1;
  return n;
}
