import { corpusText } from './corpus';
import { seededRng, subSeed } from './seeded-rng';
import { mapLimit, type TokenizerClient } from './tokenizer-client';

/**
 * Synthetic prompts of an exact token count, the way GenAI-Perf and AIPerf make them
 * (reference/genai-perf.md §4.5): the corpus is tokenized with the target tokenizer, n consecutive
 * ids from a random start (wrapping) are decoded to text. Decoding then re-encoding is not always a
 * round trip, so each prompt is re-counted and the cut adjusted until the bare text is exactly n
 * tokens — the tools stop at "about n". n comes from Normal(mean, stddev), at least 1.
 */

export interface Prompt {
  text: string;
  /** Tokens of the bare text (add_special_tokens false, no chat template), as the tools count ISL. */
  tokens: number;
  /** The length that was asked for. */
  target: number;
}

export interface PromptSet {
  prompts: Prompt[];
  /** Prompts whose length could not be made exact (the tokenizer merges across the cut). */
  inexact: number;
}

// Paragraph groups tokenized one request each: small enough for any max_model_len check.
const CORPUS_PIECE_CHARS = 4_000;
const MAX_ATTEMPTS = 8;

let corpusIdsCache: { key: string; ids: number[] } | null = null;

async function corpusIds(tok: TokenizerClient): Promise<number[]> {
  const key = `${tok.baseUrl} ${tok.model}`;
  if (corpusIdsCache?.key === key) return corpusIdsCache.ids;
  const pieces: string[] = [];
  let cur = '';
  for (const para of corpusText().split('\n')) {
    if (cur && cur.length + para.length > CORPUS_PIECE_CHARS) {
      pieces.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${para}` : para;
  }
  if (cur) pieces.push(cur);
  const encoded = await mapLimit(pieces, 8, (p) => tok.encode(p + '\n'));
  const ids = encoded.flat();
  corpusIdsCache = { key, ids };
  return ids;
}

function take(ids: readonly number[], start: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = ids[(start + i) % ids.length]!;
  return out;
}

async function exactPrompt(tok: TokenizerClient, ids: readonly number[], start: number, target: number): Promise<Prompt> {
  let cut = target;
  let best: Prompt | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const text = await tok.decode(take(ids, start, Math.max(1, cut)));
    const tokens = await tok.count(text);
    if (!best || Math.abs(tokens - target) < Math.abs(best.tokens - target)) best = { text, tokens, target };
    if (tokens === target) return best;
    cut += target - tokens;
    // A different start often avoids a merge that keeps the count off by one.
    if (attempt >= 3) start = (start + 1) % ids.length;
  }
  return best!;
}

/** `count` prompts with lengths from Normal(mean, stddev); deterministic for one seed and tokenizer. */
export async function buildPrompts(tok: TokenizerClient, opts: { count: number; islMean: number; islStddev: number; seed: number; concurrency?: number }): Promise<PromptSet> {
  const ids = await corpusIds(tok);
  if (ids.length === 0) throw new Error('the tokenizer returned no tokens for the corpus');
  const rng = seededRng(subSeed(opts.seed, 1));
  const plan = Array.from({ length: opts.count }, () => ({
    target: Math.max(1, Math.round(rng.gauss(opts.islMean, opts.islStddev))),
    start: rng.int(ids.length),
  }));
  const prompts = await mapLimit(plan, opts.concurrency ?? 8, (p) => exactPrompt(tok, ids, p.start, p.target));
  return { prompts, inexact: prompts.filter((p) => p.tokens !== p.target).length };
}
