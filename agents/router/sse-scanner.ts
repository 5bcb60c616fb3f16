export interface UsageCounts {
  promptTokens: number | null;
  completionTokens: number | null;
}

const LF = 0x0a;
const DATA = Buffer.from('data:');
const DONE = Buffer.from('[DONE]');
const ERROR = Buffer.from('{"error"');

/**
 * Watches an OpenAI SSE stream as it is relayed, cheaply (it runs for every token): it works on the
 * raw bytes with byte searches only (event boundaries are ASCII, so UTF-8 never needs decoding),
 * parses JSON only until the first text-carrying chunk is seen (to time the first token), then
 * counts every data event as a token chunk. `finish()` parses the last payload once: a usage-only
 * chunk (`"choices": []`, sent when the client asked for usage) is taken back out of the count, and
 * its usage block gives exact counts.
 */
export class SseScanner {
  firstTokenAtMs: number | null = null;
  lastTokenAtMs: number | null = null;
  tokenChunks = 0;
  done = false;
  /** Message of an in-stream `data: {"error": …}` event (vLLM reports mid-stream failures this way). */
  errorMessage: string | null = null;
  private rest: Buffer | null = null;
  private lastBuf: Buffer | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  private lastCounted = false;
  private previousTokenAtMs: number | null = null;
  private finished: UsageCounts | null = null;

  push(chunk: Buffer, nowMs: number): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    const len = buf.length;
    let start = 0;
    let pos = 0;
    for (;;) {
      const i = buf.indexOf(LF, pos);
      if (i < 0 || i + 1 >= len) break;
      if (buf[i + 1] !== LF) {
        pos = i + 1;
        continue;
      }
      this.event(buf, start, i, nowMs);
      start = pos = i + 2;
    }
    // Copy the unfinished tail: the chunk it points into belongs to the socket stream.
    this.rest = start >= len ? null : Buffer.from(buf.subarray(start));
  }

  /** One event, bytes [start, end) of buf (offsets, not views: a view costs more than the search). */
  private event(buf: Buffer, start: number, end: number, nowMs: number): void {
    let at: number;
    if (startsWith(buf, DATA, start, end)) at = start + DATA.length;
    else {
      // Comment or other field lines first: find the data line.
      let i = buf.indexOf(LF, start);
      while (i >= 0 && i < end && !startsWith(buf, DATA, i + 1, end)) i = buf.indexOf(LF, i + 1);
      if (i < 0 || i >= end) return;
      at = i + 1 + DATA.length;
    }
    if (buf[at] === 0x20) at++;
    if (startsWith(buf, DONE, at, end)) {
      this.done = true;
      return;
    }
    this.lastBuf = buf;
    this.lastStart = at;
    this.lastEnd = end;
    if (startsWith(buf, ERROR, at, end)) {
      this.errorMessage = errorOf(buf.toString('utf8', at, end));
      this.lastCounted = false;
      return;
    }
    if (this.firstTokenAtMs === null) {
      this.lastCounted = carriesText(buf.toString('utf8', at, end));
      if (!this.lastCounted) return;
      this.firstTokenAtMs = nowMs;
    }
    this.lastCounted = true;
    this.tokenChunks++;
    this.previousTokenAtMs = this.lastTokenAtMs;
    this.lastTokenAtMs = nowMs;
  }

  /** Call once the stream ended: settles the counts and returns the usage block, if any. */
  finish(): UsageCounts {
    if (this.finished) return this.finished;
    const json = this.lastBuf ? this.lastBuf.toString('utf8', this.lastStart, this.lastEnd) : null;
    this.finished = usageOf(json);
    if (json && this.lastCounted && hasEmptyChoices(json)) {
      this.tokenChunks--;
      this.lastTokenAtMs = this.previousTokenAtMs;
    }
    return this.finished;
  }
}

function startsWith(buf: Buffer, prefix: Buffer, at: number, end: number): boolean {
  if (end - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

function hasEmptyChoices(json: string): boolean {
  try {
    const v: unknown = JSON.parse(json);
    return isRecord(v) && Array.isArray(v.choices) && v.choices.length === 0;
  } catch {
    return false;
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
