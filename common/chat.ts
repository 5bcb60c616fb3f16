import { z } from 'zod';
import { ErrorPayload } from './errors';
import { RouterTrace, type PrefillReason } from './router-trace';

/**
 * The chat playground and `handoff chat`: what the renderer asks the controller to stream (chat.*
 * in api-contract.ts), the events that carry the answer back, the per-message statistics (client
 * timings + the router's trace of that request), and saved conversations
 * (`$HANDOFF_HOME/conversations/<id>.json`).
 */

export const ChatRole = z.enum(['system', 'user', 'assistant']);
export type ChatRole = z.infer<typeof ChatRole>;

export const ChatMessage = z.object({ role: ChatRole, content: z.string().max(4_000_000) });
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Sampling parameters, as the OpenAI chat API names them (temperature, top_p, max_tokens, seed, stop). */
export const ChatParams = z.object({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.int().min(1).max(1_000_000).optional(),
  seed: z.int().min(0).max(2 ** 53 - 1).optional(),
  /** Up to 4 stop strings (the OpenAI limit). */
  stop: z.array(z.string().min(1).max(200)).max(4).optional(),
});
export type ChatParams = z.infer<typeof ChatParams>;

export const DEFAULT_CHAT_PARAMS = { temperature: 0.7, topP: 1, maxTokens: 512 } as const satisfies ChatParams;

/** Ids chosen by clients end up in file names and headers: keep them plain. */
export const ClientId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1 to 64 letters, digits, - or _');

export const ChatStartParams = z.object({
  /** Chosen by the caller so it can route chat.delta events before the call returns. */
  streamId: ClientId,
  /** Deployment id, unique id prefix, or name. */
  deployment: z.string().min(1),
  messages: z.array(ChatMessage).min(1).max(10_000),
  params: ChatParams.prefault({}),
});
export type ChatStartParams = z.infer<typeof ChatStartParams>;

export const ChatStartResult = z.object({
  streamId: z.string(),
  /** Sent as X-Request-Id: the router's trace of the request carries it. */
  requestId: z.string(),
  deploymentId: z.string(),
  deploymentName: z.string(),
  simulated: z.boolean(),
  mode: z.enum(['aggregated', 'disaggregated']),
  model: z.string(),
});
export type ChatStartResult = z.infer<typeof ChatStartResult>;

/** Text that arrived since the last delta of this stream (batched: at most one event per few ms). */
export const ChatDelta = z.object({
  streamId: z.string(),
  text: z.string(),
  /** Chunks with text in this batch. */
  chunks: z.int().min(0),
  /** Epoch ms at which the controller received the oldest chunk of this batch. */
  firstAtMs: z.number(),
});
export type ChatDelta = z.infer<typeof ChatDelta>;

/** What the client saw (the controller, which is the HTTP client), per docs/metrics.md §2. */
export const ChatStats = z.object({
  /** First chunk with text − request sent. */
  ttftMs: z.number().nullable(),
  /** (last − first) ÷ (output tokens − 1); null with fewer than two tokens or one chunk. */
  itlMs: z.number().nullable(),
  /** 1 ÷ ITL: the decode speed one user sees. */
  tokensPerS: z.number().nullable(),
  /** Last chunk with text − request sent (or until the stop / error). */
  e2eMs: z.number().nullable(),
  inputTokens: z.int().nullable(),
  outputTokens: z.int().nullable(),
  /** usage = the server's usage block; chunks = chunks with text (when the stream was cut short). */
  outputTokensSource: z.enum(['usage', 'chunks']).nullable(),
  finishReason: z.string().nullable(),
});
export type ChatStats = z.infer<typeof ChatStats>;

export const ChatOutcome = z.enum(['ok', 'stopped', 'error']);
export type ChatOutcome = z.infer<typeof ChatOutcome>;

export const ChatDone = z.object({
  streamId: z.string(),
  requestId: z.string(),
  outcome: ChatOutcome,
  /** The whole answer (a window that missed deltas still ends with the right text). */
  text: z.string(),
  stats: ChatStats,
  /** The router's trace of this request (GET /handoff/traces/<requestId>), when it could be read. */
  trace: RouterTrace.nullable(),
  /** Why there is no trace, when there is none. */
  traceNote: z.string().nullable(),
  error: ErrorPayload.nullable(),
});
export type ChatDone = z.infer<typeof ChatDone>;

// ---------------------------------------------------------------------------- statistics

export interface ChatTimings {
  sentAtMs: number;
  firstTokenAtMs: number | null;
  lastTokenAtMs: number | null;
  /** When the response ended, was stopped, or failed. */
  endAtMs: number;
  textChunks: number;
  usage: { promptTokens: number | null; completionTokens: number | null } | null;
  finishReason: string | null;
}

/** TTFT, ITL and tokens/s with the formulas of docs/metrics.md §2 (GenAI-Perf's). */
export function computeChatStats(t: ChatTimings): ChatStats {
  const outputTokens = t.usage?.completionTokens ?? (t.textChunks > 0 ? t.textChunks : null);
  const outputTokensSource = t.usage?.completionTokens != null ? 'usage' : outputTokens !== null ? 'chunks' : null;
  const ttftMs = t.firstTokenAtMs !== null ? t.firstTokenAtMs - t.sentAtMs : null;
  let itlMs: number | null = null;
  // GenAI-Perf's rule: ITL needs at least two tokens in more than one response.
  if (outputTokens !== null && outputTokens >= 2 && t.textChunks >= 2 && t.firstTokenAtMs !== null && t.lastTokenAtMs !== null && t.lastTokenAtMs > t.firstTokenAtMs) {
    itlMs = (t.lastTokenAtMs - t.firstTokenAtMs) / (outputTokens - 1);
  }
  return {
    ttftMs,
    itlMs,
    tokensPerS: itlMs !== null && itlMs > 0 ? 1000 / itlMs : null,
    e2eMs: (t.lastTokenAtMs ?? t.endAtMs) - t.sentAtMs,
    inputTokens: t.usage?.promptTokens ?? null,
    outputTokens,
    outputTokensSource,
    finishReason: t.finishReason,
  };
}

/** What the router's trace says disaggregation did to one request. */
export interface PdStats {
  mode: 'aggregated' | 'disaggregated';
  placement: 'remote' | 'local';
  reason: PrefillReason;
  /** One sentence for people: "prefilled on the prefill worker", "prompt under the remote-prefill threshold"… */
  reasonText: string;
  prefillWorker: string | null;
  decodeWorker: string | null;
  /** Prefill leg: sent → response read. */
  prefillMs: number | null;
  /**
   * P done → D's first token: the KV read plus D's first decode step plus two router hops, so an
   * upper bound of the KV transfer time (the workers' own NIXL timings are in their metrics).
   */
  kvTransferUpperBoundMs: number | null;
  kvBlocks: number | null;
  /** Router-side TTFT (arrival → first token relayed). */
  routerTtftMs: number | null;
  status: RouterTrace['status'];
  aborted: boolean;
  /** For an aborted request, what the router cancelled. */
  abortNote: string | null;
  /** The router's error, when the request failed there. */
  error: string | null;
}

const REASON_TEXT: Record<PrefillReason, string> = {
  disaggregated: 'prefilled on a prefill worker, KV handed to the decode worker',
  aggregated: 'aggregated deployment: one worker prefills and decodes',
  'short-prompt': 'prompt shorter than the remote-prefill threshold: the decode worker prefilled it',
  'prefill-saturated': 'every prefill worker was over its queue limit: the decode worker prefilled it',
  'prefill-unreachable': 'no prefill worker could be reached: the decode worker prefilled it',
  'prefill-returned-no-kv-params': 'the prefill worker returned no kv_transfer_params (not a kv_producer?): the decode worker prefilled it',
};

export function prefillReasonText(r: PrefillReason): string {
  return REASON_TEXT[r];
}

function abortNote(t: RouterTrace): string {
  if (t.prefillSentAtMs !== null && t.prefillDoneAtMs === null) return 'aborted during prefill: the router cancelled the prefill leg and sent no decode leg';
  if (t.decodeSentAtMs !== null) return `aborted while decoding: the router cancelled the decode leg${t.prefill === 'remote' ? ' (the prefill leg had finished; its KV blocks are freed after the read or by lease)' : ''}`;
  return 'aborted before any leg was sent';
}

export function pdStatsFromTrace(t: RouterTrace): PdStats {
  const prefillMs = t.prefillSentAtMs !== null && t.prefillDoneAtMs !== null ? t.prefillDoneAtMs - t.prefillSentAtMs : null;
  const kv = t.prefill === 'remote' && t.prefillDoneAtMs !== null && t.firstTokenAtMs !== null ? t.firstTokenAtMs - t.prefillDoneAtMs : null;
  return {
    mode: t.mode,
    placement: t.prefill,
    reason: t.prefillReason,
    reasonText: REASON_TEXT[t.prefillReason],
    prefillWorker: t.prefillWorker,
    decodeWorker: t.decodeWorker,
    prefillMs,
    kvTransferUpperBoundMs: kv,
    kvBlocks: t.prefill === 'remote' ? t.kvBlocks : null,
    routerTtftMs: t.firstTokenAtMs !== null ? t.firstTokenAtMs - t.arrivalAtMs : null,
    status: t.status,
    aborted: t.aborted,
    abortNote: t.aborted ? abortNote(t) : null,
    error: t.error ? t.error.message : null,
  };
}

// ---------------------------------------------------------------------------- conversations

export const ReplyState = z.enum(['streaming', 'done', 'stopped', 'error']);
export type ReplyState = z.infer<typeof ReplyState>;

/** One deployment's answer to one user turn. */
export const ChatReply = z.object({
  /** 0 = the left (or only) column, 1 = the right column of side-by-side mode. */
  lane: z.int().min(0).max(1),
  streamId: z.string(),
  requestId: z.string().nullable(),
  deploymentId: z.string().nullable(),
  deploymentName: z.string(),
  simulated: z.boolean(),
  mode: z.enum(['aggregated', 'disaggregated']).nullable(),
  content: z.string(),
  state: ReplyState,
  stats: ChatStats.nullable(),
  trace: RouterTrace.nullable(),
  traceNote: z.string().nullable(),
  error: ErrorPayload.nullable(),
  startedAt: z.string(),
});
export type ChatReply = z.infer<typeof ChatReply>;

export const ChatTurn = z.object({
  id: ClientId,
  user: z.string().max(4_000_000),
  at: z.string(),
  replies: z.array(ChatReply).max(2),
});
export type ChatTurn = z.infer<typeof ChatTurn>;

export const ChatLane = z.object({ deployment: z.string().nullable() });
export type ChatLane = z.infer<typeof ChatLane>;

export const Conversation = z.object({
  v: z.literal(1),
  id: ClientId,
  title: z.string().max(200),
  createdAt: z.string(),
  updatedAt: z.string(),
  systemPrompt: z.string().max(1_000_000),
  params: ChatParams,
  /** One lane, or two in side-by-side mode (the same prompt to two deployments). */
  lanes: z.array(ChatLane).min(1).max(2),
  turns: z.array(ChatTurn).max(10_000),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationSummary = z.object({
  id: z.string(),
  title: z.string(),
  updatedAt: z.string(),
  turns: z.int(),
  lanes: z.int(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export function summarizeConversation(c: Conversation): ConversationSummary {
  return { id: c.id, title: c.title, updatedAt: c.updatedAt, turns: c.turns.length, lanes: c.lanes.length };
}

/** A title from the first user message: its first line, at most 60 characters. */
export function conversationTitle(firstUserMessage: string): string {
  const line = firstUserMessage.trim().split('\n')[0]?.trim() ?? '';
  if (!line) return 'New conversation';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

/**
 * The messages one lane sends for turn `turnIndex`: the system prompt, every earlier turn with
 * this lane's answer (failed or empty answers are left out), then this turn's user message.
 */
export function laneMessages(c: Pick<Conversation, 'systemPrompt' | 'turns'>, lane: number, turnIndex: number): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (c.systemPrompt.trim()) out.push({ role: 'system', content: c.systemPrompt });
  c.turns.slice(0, turnIndex + 1).forEach((t, i) => {
    out.push({ role: 'user', content: t.user });
    if (i === turnIndex) return;
    const r = t.replies.find((x) => x.lane === lane);
    if (r && r.state !== 'error' && r.content) out.push({ role: 'assistant', content: r.content });
  });
  return out;
}

/** A reply saved while streaming (the app quit mid-answer) reads back as stopped. */
export function settleLoadedConversation(c: Conversation): Conversation {
  if (!c.turns.some((t) => t.replies.some((r) => r.state === 'streaming'))) return c;
  return { ...c, turns: c.turns.map((t) => ({ ...t, replies: t.replies.map((r) => (r.state === 'streaming' ? { ...r, state: 'stopped' as const } : r)) })) };
}
