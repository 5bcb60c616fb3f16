/**
 * What counts as a token response in an OpenAI-compatible stream (reference/genai-perf.md §4.1).
 * Shared by the load generator (deciding which chunk arrivals to record) and the perf_analyzer
 * importer (replaying GenAI-Perf's preprocessing of raw response bodies).
 */

export interface ChunkText {
  /** Answer text: choices[0].delta.content, choices[0].message.content or choices[0].text. */
  content: string;
  /** Reasoning text (delta.reasoning_content or delta.reasoning); GenAI-Perf ignores it, AIPerf counts it. */
  reasoning: string;
  /** Present on the usage chunk (stream_options.include_usage) or a non-streaming body. */
  usage?: { promptTokens: number | null; completionTokens: number | null };
  /** An error event or body (`{"error": …}`); the request failed. */
  error?: string;
  /** The `[DONE]` terminator. */
  done: boolean;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Reads one SSE event's data (without the `data:` prefix) or a whole non-streaming JSON body.
 * Never throws: text that is not JSON has no content, as in both tools.
 */
export function parseChunkData(data: string): ChunkText {
  const d = data.trim();
  if (d === '[DONE]') return { content: '', reasoning: '', done: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(d);
  } catch {
    return { content: '', reasoning: '', done: false };
  }
  return chunkTextOf(parsed);
}

/** parseChunkData for an already parsed JSON value (the load generator parses once and reports invalid JSON itself). */
export function chunkTextOf(parsed: unknown): ChunkText {
  const o = obj(parsed);
  if (!o) return { content: '', reasoning: '', done: false };
  const out: ChunkText = { content: '', reasoning: '', done: false };
  if (o.error !== undefined && o.error !== null) {
    const e = obj(o.error);
    out.error = e ? str(e.message) || JSON.stringify(o.error) : String(o.error);
    return out;
  }
  const usage = obj(o.usage);
  if (usage) out.usage = { promptTokens: num(usage.prompt_tokens), completionTokens: num(usage.completion_tokens) };
  const choices = Array.isArray(o.choices) ? o.choices : [];
  const c0 = obj(choices[0]);
  if (c0) {
    const delta = obj(c0.delta);
    const message = obj(c0.message);
    const src = delta ?? message;
    if (src) {
      out.content = str(src.content);
      out.reasoning = str(src.reasoning_content) || str(src.reasoning);
    } else {
      // Completions chunks, and vLLM builds that omit `object`, put the text in choices[0].text.
      out.content = str(c0.text);
    }
  }
  return out;
}

/** The data payloads of an SSE text: `data:` lines of each `\n\n`-separated event, joined. */
export function sseEventsData(text: string): string[] {
  const out: string[] = [];
  for (const event of text.replace(/\r\n/g, '\n').split('\n\n')) {
    const lines = event.split('\n').filter((l) => l.startsWith('data:'));
    if (lines.length === 0) continue;
    out.push(lines.map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n'));
  }
  return out;
}

export interface PreprocessedResponses {
  /** Timestamps of the responses kept as token responses (non-empty answer text). */
  keptNs: number[];
  /** Their texts, in order. */
  texts: string[];
  usage: { promptTokens: number | null; completionTokens: number | null } | null;
  error: string | null;
}

/**
 * GenAI-Perf's preprocessing of perf_analyzer's raw OpenAI responses:
 * 1. an output that does not start with `data:` continues the previous one (splintered SSE);
 * 2. each output is split into events; their answer texts are joined under the output's timestamp;
 *    an error event marks the request failed;
 * 3. every response with empty answer text is dropped with its timestamp (role-only first chunk,
 *    usage chunk, `[DONE]`, reasoning-only chunks).
 * A non-streaming body is one response. `streaming` false treats each output as a JSON body.
 */
export function preprocessOpenAiResponses(timestampsNs: readonly number[], outputs: readonly string[]): PreprocessedResponses {
  const merged: { ns: number; text: string }[] = [];
  for (let i = 0; i < outputs.length; i++) {
    const text = outputs[i] ?? '';
    const ns = timestampsNs[i];
    if (ns === undefined) break;
    const isSse = text.trimStart().startsWith('data:');
    const prev = merged[merged.length - 1];
    const looksLikeBody = text.trimStart().startsWith('{');
    if (!isSse && !looksLikeBody && prev) prev.text += text;
    else merged.push({ ns, text });
  }
  const result: PreprocessedResponses = { keptNs: [], texts: [], usage: null, error: null };
  for (const r of merged) {
    const datas = r.text.trimStart().startsWith('data:') ? sseEventsData(r.text) : [r.text];
    let text = '';
    for (const d of datas) {
      const c = parseChunkData(d);
      if (c.error !== undefined) result.error = c.error;
      if (c.usage) result.usage = c.usage;
      text += c.content;
    }
    if (text !== '') {
      result.keptNs.push(r.ns);
      result.texts.push(text);
    }
  }
  if (result.error !== null) {
    result.keptNs = [];
    result.texts = [];
  }
  return result;
}
