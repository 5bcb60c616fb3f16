import { StringDecoder } from 'node:string_decoder';
import { parseChunkData } from '../../common/metrics/sse-response';
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

/** Splits the body into SSE events, each timed by the piece that completed it. */
export function sseEvents(ex: RawExchange, originNs: bigint): TimedEvent[] {
  const out: TimedEvent[] = [];
  const dec = new StringDecoder('utf8');
  let carry = '';
  for (let i = 0; i < ex.pieces.length; i++) {
    let s = carry + dec.write(ex.pieces[i]!);
    if (s.indexOf('\r') !== -1) s = s.replace(/\r\n/g, '\n');
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
  if (text.startsWith('data: ') && text.indexOf('\n') === -1) return text.slice(6);
  const lines = text.split('\n').filter((l) => l.startsWith('data:'));
  if (lines.length === 0) return null;
  return lines.map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n');
}

function bodyText(ex: RawExchange): string {
  return Buffer.concat(ex.pieces).toString('utf8');
}

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
  const isSse = streaming && ex.pieces.length > 0 && ex.pieces[0]!.subarray(0, 5).toString('latin1') === 'data:';
  const events = isSse ? sseEvents(ex, originNs) : [{ ns: endNs, text: bodyText(ex) }];
  parsed.events = events;
  const chunkNs = record.chunkNs!;
  let firstContent: number | null = null;
  for (const ev of events) {
    const data = isSse ? eventData(ev.text) : ev.text;
    if (data === null) continue;
    const c = parseChunkData(data);
    if (c.error !== undefined) {
      record.error = { code: null, type: 'StreamError', message: c.error };
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
