import { StringDecoder } from 'node:string_decoder';

export interface UsageCounts {
  promptTokens: number | null;
  completionTokens: number | null;
}

/**
 * Watches an OpenAI SSE stream as it is relayed, cheaply: JSON is parsed only until the first
 * text-carrying chunk is seen (to time the first token), then chunks are counted by substring
 * checks; the last data payload is kept so a usage block, when the client asked for one, gives
 * exact counts at the end.
 */
export class SseScanner {
  firstTokenAtMs: number | null = null;
  lastTokenAtMs: number | null = null;
  tokenChunks = 0;
  done = false;
  /** Message of an in-stream `data: {"error": …}` event (vLLM reports mid-stream failures this way). */
  errorMessage: string | null = null;
  private lastPayload: string | null = null;
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');

  push(chunk: Buffer, nowMs: number): void {
    const text = this.rest + this.decoder.write(chunk);
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end < 0) break;
      this.event(text.slice(start, end), nowMs);
      start = end + 2;
    }
    this.rest = start === 0 ? text : text.slice(start);
  }

  private event(ev: string, nowMs: number): void {
    // An event may carry comment or other field lines; the data line is what matters.
    const at = ev.startsWith('data:') ? 0 : ev.indexOf('\ndata:') + 1;
    if (at === 0 && !ev.startsWith('data:')) return;
    let payload = ev.slice(at + 5);
    if (payload.startsWith(' ')) payload = payload.slice(1);
    if (payload.startsWith('[DONE]')) {
      this.done = true;
      return;
    }
    this.lastPayload = payload;
    if (payload.startsWith('{"error"')) {
      this.errorMessage = errorOf(payload);
      return;
    }
    let hasToken: boolean;
    if (this.firstTokenAtMs === null) {
      hasToken = carriesText(payload);
      if (hasToken) this.firstTokenAtMs = nowMs;
    } else {
      hasToken = payload.includes('"choices":[{') || (payload.includes('"choices": [{'));
    }
    if (hasToken) {
      this.tokenChunks++;
      this.lastTokenAtMs = nowMs;
    }
  }

  /** Usage from the last data payload (present when stream_options.include_usage was set). */
  usage(): UsageCounts {
    return usageOf(this.lastPayload);
  }
}

function carriesText(payload: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return false;
  }
  if (!isRecord(v) || !Array.isArray(v.choices)) return false;
  for (const c of v.choices) {
    if (!isRecord(c)) continue;
    if (typeof c.text === 'string' && c.text.length > 0) return true;
    const d = c.delta;
    if (isRecord(d)) {
      for (const k of ['content', 'reasoning_content', 'reasoning'] as const) {
        const s = d[k];
        if (typeof s === 'string' && s.length > 0) return true;
      }
      if (Array.isArray(d.tool_calls) && d.tool_calls.length > 0) return true;
    }
  }
  return false;
}

function errorOf(payload: string): string {
  try {
    const v: unknown = JSON.parse(payload);
    if (isRecord(v) && isRecord(v.error) && typeof v.error.message === 'string') return v.error.message;
  } catch {
    // fall through
  }
  return payload.slice(0, 300);
}

export function usageOf(json: string | null): UsageCounts {
  const none = { promptTokens: null, completionTokens: null };
  if (!json || !json.includes('"usage"')) return none;
  try {
    const v: unknown = JSON.parse(json);
    if (!isRecord(v) || !isRecord(v.usage)) return none;
    const p = v.usage.prompt_tokens;
    const c = v.usage.completion_tokens;
    return {
      promptTokens: typeof p === 'number' && Number.isInteger(p) && p >= 0 ? p : null,
      completionTokens: typeof c === 'number' && Number.isInteger(c) && c >= 0 ? c : null,
    };
  } catch {
    return none;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
