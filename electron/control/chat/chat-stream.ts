import http from 'node:http';
import { createParser } from 'eventsource-parser';
import type { ChatOutcome, ChatTimings } from '../../../common/chat';
import type { ErrorPayload } from '../../../common/errors';
import { connectionChatError, droppedChatError, httpChatError, streamChatError, type ChatTarget } from './chat-errors';

/** Wall-clock milliseconds with sub-millisecond precision (comparable with the router's trace times). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface ChatStreamRequest {
  /** OpenAI base URL on this computer (`http://127.0.0.1:PORT/v1`). */
  baseUrl: string;
  requestId: string;
  body: Record<string, unknown>;
  target: ChatTarget;
  onText(text: string, atMs: number): void;
  signal: AbortSignal;
}

export interface ChatStreamResult {
  outcome: ChatOutcome;
  text: string;
  timings: ChatTimings;
  error: ErrorPayload | null;
  /** False when nothing reached the router (no trace to ask for). */
  reachedRouter: boolean;
}

const maxErrorBodyBytes = 1 << 20;

interface ParsedChunk {
  content: string;
  /** Reasoning text counts as a token (AIPerf's TTFT) but is not shown as the answer. */
  reasoning: boolean;
  finishReason: string | null;
  usage: { promptTokens: number | null; completionTokens: number | null } | null;
  error: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const rec = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** One SSE data payload of an OpenAI chat stream; never throws (a non-JSON event carries nothing). */
export function parseChatChunk(data: string): ParsedChunk | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  const o = rec(v);
  if (!o) return null;
  const out: ParsedChunk = { content: '', reasoning: false, finishReason: null, usage: null, error: null };
  if (o.error !== undefined && o.error !== null) {
    const e = rec(o.error);
    out.error = e && typeof e.message === 'string' ? e.message : JSON.stringify(o.error);
    return out;
  }
  const u = rec(o.usage);
  if (u) out.usage = { promptTokens: num(u.prompt_tokens), completionTokens: num(u.completion_tokens) };
  const c0 = Array.isArray(o.choices) ? rec(o.choices[0]) : null;
  if (c0) {
    const d = rec(c0.delta) ?? rec(c0.message);
    if (d) {
      if (typeof d.content === 'string') out.content = d.content;
      const r = d.reasoning_content ?? d.reasoning;
      out.reasoning = typeof r === 'string' && r.length > 0;
    }
    if (typeof c0.finish_reason === 'string') out.finishReason = c0.finish_reason;
  }
  return out;
}

/**
 * One streamed chat completion through the deployment's router. Resolves (never rejects) with the
 * outcome; aborting `signal` closes the connection, which makes the router abort its legs.
 */
export function streamChat(r: ChatStreamRequest): Promise<ChatStreamResult> {
  const url = new URL(`${r.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const payload = Buffer.from(JSON.stringify(r.body));
  const timings: ChatTimings = { sentAtMs: nowMs(), firstTokenAtMs: null, lastTokenAtMs: null, endAtMs: 0, textChunks: 0, usage: null, finishReason: null };
  let text = '';
  let reachedRouter = false;

  return new Promise<ChatStreamResult>((resolve) => {
    let settled = false;
    const settle = (outcome: ChatOutcome, error: ErrorPayload | null): void => {
      if (settled) return;
      settled = true;
      timings.endAtMs = nowMs();
      r.signal.removeEventListener('abort', onAbort);
      resolve({ outcome, text, timings, error, reachedRouter });
    };
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': payload.length, 'x-request-id': r.requestId, accept: 'text/event-stream' },
      agent: false,
    });
    const onAbort = (): void => {
      req.destroy();
      settle('stopped', null);
    };
    if (r.signal.aborted) return onAbort();
    r.signal.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', (err: Error & { code?: string }) => settle(r.signal.aborted ? 'stopped' : 'error', r.signal.aborted ? null : reachedRouter ? droppedChatError(r.target) : connectionChatError(err, r.target)));
    req.on('response', (res) => {
      reachedRouter = true;
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < maxErrorBodyBytes) parts.push(c);
          size += c.length;
        });
        res.on('end', () => settle('error', httpChatError(status, Buffer.concat(parts).toString('utf8'), r.target)));
        res.on('error', () => undefined);
        return;
      }
      let streamError: string | null = null;
      const parser = createParser({
        onEvent: (ev) => {
          if (ev.data === '[DONE]') return;
          const c = parseChatChunk(ev.data);
          if (!c) return;
          if (c.error !== null) {
            streamError = c.error;
            return;
          }
          if (c.usage) timings.usage = c.usage;
          if (c.finishReason) timings.finishReason = c.finishReason;
          if (c.content || c.reasoning) {
            const at = nowMs();
            timings.firstTokenAtMs ??= at;
            timings.lastTokenAtMs = at;
            timings.textChunks++;
            if (c.content) {
              text += c.content;
              r.onText(c.content, at);
            }
          }
        },
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
      res.on('end', () => settle(streamError !== null ? 'error' : 'ok', streamError !== null ? streamChatError(streamError, r.target) : null));
      res.on('close', () => {
        if (!res.complete) settle(r.signal.aborted ? 'stopped' : 'error', r.signal.aborted ? null : droppedChatError(r.target));
      });
      res.on('error', () => undefined);
    });
    req.end(payload);
  });
}
