import { StringDecoder } from 'node:string_decoder';
import { chunkTextOf, type ChunkText } from '../../common/metrics/sse-response';
import type { RequestRecord } from '../../common/run-record';
import type { RawExchange } from './http-exchange';

/**
 * Turns a timestamped exchange into a requests.jsonl record, following reference/genai-perf.md
 * §4.1/§4.6: each SSE event is timestamped when its terminating blank line arrived; only events
 * carrying output text (content or reasoning) are token responses, so the role-only first chunk,
 * the usage chunk and `[DONE]` are not; latency ends at the last token response; server usage is
 * kept beside the chunk count. Reasoning counts for TTFT as in AIPerf; the first answer-content
 * chunk is kept too (firstContentNs), which is GenAI-Perf's TTFT.
 */

export interface TimedEvent {
  ns: number;
  text: string;
}

export interface ParsedExchange {
  record: RequestRecord;
  /** Every SSE event (or the one body) with its time: perf_analyzer's response_outputs. */
  events: TimedEvent[];
  content: string;
  reasoning: string;
}

/**
 * Splits the body into SSE events, each timed by the piece that completed it. Event boundaries are
 * found on the bytes (`\n\n` is ASCII, so it never sits inside a UTF-8 sequence) and the body is
 * decoded once; per-event decoding is only needed when multi-byte text shifts the offsets.
 */
export function sseEvents(ex: RawExchange, originNs: bigint): TimedEvent[] {
  const { body, pieceEnds } = ex;
  if (body.indexOf(13) !== -1) return sseEventsCrLf(ex, originNs);
  const out: TimedEvent[] = [];
  const text = body.toString('utf8');
  const aligned = text.length === body.length;
  const pieceNs: number[] = [];
  const nsOf = (piece: number): number => (pieceNs[piece] ??= Number(ex.times[piece]! - originNs));
  let piece = 0;
  let from = 0;
  for (let lf = body.indexOf(10); lf !== -1; lf = body.indexOf(10, lf + 1)) {
    if (body[lf + 1] !== 10) continue;
    const sepEnd = lf + 2;
    while (pieceEnds[piece]! < sepEnd) piece++;
    if (lf > from) out.push({ ns: nsOf(piece), text: aligned ? text.slice(from, lf) : body.toString('utf8', from, lf) });
    from = sepEnd;
    lf++;
  }
  if (from < body.length) {
    const rest = aligned ? text.slice(from) : body.toString('utf8', from);
    if (rest.trim() !== '') out.push({ ns: nsOf(ex.times.length - 1), text: rest });
  }
  return out;
}

/** The general path for streams with CR or CRLF line ends: decode, normalise, split. */
function sseEventsCrLf(ex: RawExchange, originNs: bigint): TimedEvent[] {
  const out: TimedEvent[] = [];
  const dec = new StringDecoder('utf8');
  let carry = '';
  for (let i = 0; i < ex.pieceEnds.length; i++) {
    let s = carry + dec.write(ex.body.subarray(i === 0 ? 0 : ex.pieceEnds[i - 1], ex.pieceEnds[i]));
    if (s.indexOf('\r') !== -1) s = s.replace(/\r\n?/g, '\n');
    const ns = Number(ex.times[i]! - originNs);
    let from = 0;
    for (;;) {
      const sep = s.indexOf('\n\n', from);
      if (sep === -1) break;
      if (sep > from) out.push({ ns, text: s.slice(from, sep) });
      from = sep + 2;
    }
    carry = from === 0 ? s : s.slice(from);
  }
  carry += dec.end();
  if (carry.trim() !== '' && ex.times.length > 0) out.push({ ns: Number(ex.times[ex.times.length - 1]! - originNs), text: carry });
  return out;
}

/** The data payload of one event: its `data:` lines joined (one line in every OpenAI stream). */
function eventData(text: string): string | null {
  if (text.slice(0, 6) === 'data: ' && text.indexOf('\n') === -1) return text.slice(6);
  const lines = text.split('\n').filter((l) => l.startsWith('data:'));
  if (lines.length === 0) return null;
  return lines.map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n');
}

function bodyText(ex: RawExchange): string {
  return ex.body.toString('utf8');
}

function excerpt(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

/** One event's (or body's) JSON, or why it is not a usable chunk. */
function readChunk(data: string): ChunkText | string {
  if (data === '[DONE]') return DONE;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    const d = data.trim();
    if (d === '[DONE]') return DONE;
    if (d === '') return EMPTY;
    return `is not valid JSON (${err instanceof Error ? err.message : String(err)}): ${excerpt(d)}`;
  }
  return chunkTextOf(value);
}

/**
 * The events of one stream repeat the same JSON around a changing text: same id, model, created,
 * index, null logprobs. Once an event with text has been parsed, later events that are that text
 * with a different plain string literal in its place are read without JSON.parse, which is most of
 * the per-event cost. Substituting one string literal for another keeps the JSON valid and changes
 * only that value, so the result is exactly what parsing would give; anything else (the role chunk,
 * the finishing chunk, escapes, usage) is parsed in full.
 */
class ChunkTemplate {
  private constructor(
    private readonly prefix: string,
    private readonly suffix: string,
    private readonly base: ChunkText,
  ) {}

  /** A template from a parsed event whose text sits in one plain `"content":"…"` or `"text":"…"` literal. */
  static from(data: string, c: ChunkText): ChunkTemplate | null {
    if (c.content === '' || c.reasoning !== '' || c.error !== undefined || !plainText(c.content)) return null;
    for (const key of ['"content":', '"text":']) {
      const k = data.indexOf(key);
      if (k === -1) continue;
      if (data.indexOf(key, k + 1) !== -1) return null;
      const q = k + key.length;
      if (!data.startsWith(`"${c.content}"`, q)) return null;
      return new ChunkTemplate(data.slice(0, q + 1), data.slice(q + c.content.length + 1), c);
    }
    return null;
  }

  read(data: string): ChunkText | null {
    const { prefix, suffix } = this;
    const end = data.length - suffix.length;
    // slice + === : String.prototype.startsWith/endsWith cost several times more in V8 here.
    if (end <= prefix.length || data.slice(0, prefix.length) !== prefix || data.slice(end) !== suffix) return null;
    const text = data.slice(prefix.length, end);
    if (!plainText(text)) return null;
    const c: ChunkText = { content: text, reasoning: '', done: false };
    if (this.base.usage) c.usage = this.base.usage;
    return c;
  }
}

/** Text whose JSON string literal is itself between quotes: no quote, backslash or control character. */
function plainText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

const DONE: ChunkText = { content: '', reasoning: '', done: true };
const EMPTY: ChunkText = { content: '', reasoning: '', done: false };

export function parseExchange(ex: RawExchange, originNs: bigint, streaming: boolean): ParsedExchange {
  const record: RequestRecord = {
    sendNs: Number(ex.sendNs - originNs),
    chunkNs: [],
    firstTokenNs: null,
    lastTokenNs: null,
    inputTokens: null,
    outputTokens: { usage: null, chunks: 0 },
    error: null,
  };
  const parsed: ParsedExchange = { record, events: [], content: '', reasoning: '' };
  if (ex.error !== null) {
    record.error = ex.cancelled
      ? { code: 499, type: 'Cancelled', message: 'cancelled by the user' }
      : { code: ex.status || null, type: 'TransportError', message: ex.error };
    return parsed;
  }
  if (ex.status !== 200) {
    const text = bodyText(ex);
    record.error = { code: ex.status, type: 'HttpError', message: `HTTP ${ex.status}: ${text.slice(0, 500)}` };
    return parsed;
  }
  const endNs = ex.times.length > 0 ? Number(ex.times[ex.times.length - 1]! - originNs) : Number(ex.endNs - originNs);
  const isSse = streaming && ex.body.toString('latin1', 0, 5) === 'data:';
  const events = isSse ? sseEvents(ex, originNs) : [{ ns: endNs, text: bodyText(ex) }];
  parsed.events = events;
  const chunkNs = record.chunkNs!;
  let firstContent: number | null = null;
  let template: ChunkTemplate | null = null;
  for (let k = 0; k < events.length; k++) {
    const ev = events[k]!;
    const data = isSse ? eventData(ev.text) : ev.text;
    if (data === null) continue;
    let c: ChunkText | string | null = template?.read(data) ?? null;
    if (c === null) {
      const full = readChunk(data);
      if (isSse && typeof full !== 'string') template = ChunkTemplate.from(data, full) ?? template;
      c = full;
    }
    if (typeof c === 'string') {
      record.error ??= { code: null, type: 'StreamError', message: isSse ? `SSE event ${k + 1} of the response ${c}` : `the response body ${c}` };
      continue;
    }
    if (c.error !== undefined) {
      record.error ??= { code: null, type: 'StreamError', message: c.error };
      continue;
    }
    if (c.usage) record.outputTokens.usage = c.usage.completionTokens;
    if (c.content !== '' || c.reasoning !== '') {
      chunkNs.push(ev.ns);
      if (c.content !== '' && firstContent === null) firstContent = ev.ns;
      parsed.content += c.content;
      parsed.reasoning += c.reasoning;
    }
  }
  if (record.error) {
    record.chunkNs = [];
    return parsed;
  }
  record.outputTokens.chunks = chunkNs.length;
  if (chunkNs.length > 0) {
    record.firstTokenNs = chunkNs[0]!;
    record.lastTokenNs = chunkNs[chunkNs.length - 1]!;
    if (firstContent !== null && firstContent !== record.firstTokenNs) record.firstContentNs = firstContent;
  }
  return parsed;
}
