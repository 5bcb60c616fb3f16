import { isRecord } from './sse-scanner';

/**
 * Prompt length for the conditional-disaggregation rule (--remote-prefill-min-tokens), without a
 * tokenizer in the router. Byte-level BPE tokenizers never produce more tokens than UTF-8 bytes, so
 * `bytes + template overhead` is an upper bound, and real text averages 3–5 bytes per token. The
 * router therefore decides without asking anyone when the answer is clear:
 *   upper bound < threshold            → short (local prefill)
 *   bytes / 8   ≥ threshold            → long (remote prefill)
 * and only in between asks the decode worker's POST /tokenize (exact, one extra round trip).
 * Token-id prompts are counted exactly. The count ignores prefix-cache hits ("cache-free").
 */
export interface PromptText {
  /** UTF-8 bytes of all prompt text. */
  bytes: number;
  /** Chat messages or prompts: each adds template tokens. */
  parts: number;
  /** Exact count when the prompt is token ids. */
  exactTokens: number | null;
}

const templateTokensPerPart = 16;
const templateTokensFixed = 64;
const maxBytesPerToken = 8;
const typicalBytesPerToken = 4;

export type LengthVerdict = { kind: 'short' | 'long'; tokens: number; source: 'estimate' | 'exact' } | { kind: 'ask' };

export function judgePromptLength(p: PromptText, minTokens: number): LengthVerdict {
  if (p.exactTokens !== null) return { kind: p.exactTokens < minTokens ? 'short' : 'long', tokens: p.exactTokens, source: 'exact' };
  const estimate = estimateTokens(p);
  if (p.bytes + p.parts * templateTokensPerPart + templateTokensFixed < minTokens) return { kind: 'short', tokens: estimate, source: 'estimate' };
  if (p.bytes / maxBytesPerToken >= minTokens) return { kind: 'long', tokens: estimate, source: 'estimate' };
  return { kind: 'ask' };
}

export function estimateTokens(p: PromptText): number {
  return p.exactTokens ?? Math.ceil(p.bytes / typicalBytesPerToken);
}

export function chatPromptText(messages: unknown[]): PromptText {
  let bytes = 0;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    const c = m.content;
    if (typeof c === 'string') bytes += Buffer.byteLength(c);
    else if (Array.isArray(c)) {
      for (const part of c) if (isRecord(part) && typeof part.text === 'string') bytes += Buffer.byteLength(part.text);
    }
  }
  return { bytes, parts: messages.length, exactTokens: null };
}

export function completionPromptText(prompt: unknown): PromptText {
  if (typeof prompt === 'string') return { bytes: Buffer.byteLength(prompt), parts: 1, exactTokens: null };
  if (Array.isArray(prompt)) {
    if (prompt.every((t) => typeof t === 'number')) return { bytes: 0, parts: 1, exactTokens: prompt.length };
    let bytes = 0;
    let exact = 0;
    let allIds = true;
    for (const p of prompt) {
      if (typeof p === 'string') {
        bytes += Buffer.byteLength(p);
        allIds = false;
      } else if (Array.isArray(p)) exact += p.length;
    }
    return { bytes: bytes + exact * typicalBytesPerToken, parts: prompt.length, exactTokens: allIds ? exact : null };
  }
  return { bytes: 0, parts: 1, exactTokens: null };
}

/** The /tokenize request body matching a generation request (chat or completion form, reference §4). */
export function tokenizeBody(endpoint: '/v1/chat/completions' | '/v1/completions', body: Record<string, unknown>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  if (typeof body.model === 'string') out.model = body.model;
  if (endpoint === '/v1/chat/completions') {
    out.messages = body.messages;
    out.add_generation_prompt = body.add_generation_prompt ?? true;
    for (const k of ['continue_final_message', 'add_special_tokens', 'chat_template', 'chat_template_kwargs', 'tools'] as const) if (k in body) out[k] = body[k];
    return out;
  }
  if (typeof body.prompt !== 'string') return null;
  out.prompt = body.prompt;
  return out;
}
