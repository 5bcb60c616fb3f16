/**
 * A small deterministic, invertible tokenizer, used for /tokenize, /detokenize, prompt counting,
 * usage and the generated filler. It is not any real model's tokenizer (the mocker has no weights
 * or vocab files); it only has to be consistent and roughly as dense as a BPE on English text.
 *
 * Ids: 0..3 special, 4..259 raw bytes (fallback for anything else), then known words with and
 * without a leading space, then letter pairs and single letters with and without a leading space.
 * A known word costs 1 token, another ASCII word ~half its letters, anything else one per byte.
 */

export const BOS_TOKEN_ID = 0;
export const EOS_TOKEN_ID = 1;
const SPECIALS = ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header|>', '<|end_header|>'];
const BYTE_BASE = 4;

/** Common English words; also the vocabulary of the generated filler text. */
export const WORDS: readonly string[] = (
  'the of and to in is was for that on as with by he it at from his an were are which this be ' +
  'or has had not have but one first new also after its they two their who been more all time ' +
  'when other there into up only most over out year years state world city some her made can ' +
  'she would during about known used would then three while between under people many these ' +
  'where both through before such part later later being school like them system well any ' +
  'season team since government because each name against country second until well same ' +
  'work area including number public history several including day four early national ' +
  'around life each family group due film series still long large water left end small often ' +
  'power music within following high place days line main way along local major based became ' +
  'five next light river south north west east land early game field order point form case ' +
  'model engine token block cache memory signal value level market energy report study paper ' +
  'simple quiet bright steady gentle rapid clear open green stone cloud morning evening river ' +
  'garden window letter story answer question reason moment journey message network server ' +
  'request response stream batch queue worker prefill decode transfer latency metric router ' +
  'handoff simulated filler text that reads smoothly while meaning nothing in particular today ' +
  'careful measure every step again always never perhaps maybe surely slowly quickly together ' +
  'across beyond inside outside above below near far here now soon once twice often rarely ' +
  'we you i me my our your us him them what how why which whose whom whatever whenever ' +
  'good great small big old young long short true false real simple complex common rare ' +
  'make take give find think tell become show leave feel bring begin keep hold write stand ' +
  'hear let mean set meet run pay sit speak lie lead read grow lose fall send build stay ' +
  'house room door table chair paper book page word line note sound voice color shape size'
)
  .split(/\s+/)
  .filter((w, i, all) => w.length > 0 && all.indexOf(w) === i);

const WORD_BASE = BYTE_BASE + 256;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PIECE_BASE = WORD_BASE + WORDS.length * 2;

const pieceStrings: string[] = [];
for (const a of LETTERS) pieceStrings.push(a);
for (const a of LETTERS) for (const b of LETTERS) pieceStrings.push(a + b);

/** id → text, for every non-byte, non-special token. */
const idToText = new Map<number, string>();
const textToId = new Map<string, number>();
WORDS.forEach((w, i) => {
  const plain = WORD_BASE + 2 * i;
  idToText.set(plain, w);
  idToText.set(plain + 1, ' ' + w);
});
pieceStrings.forEach((p, i) => {
  const plain = PIECE_BASE + 2 * i;
  idToText.set(plain, p);
  idToText.set(plain + 1, ' ' + p);
});
for (const [id, text] of idToText) if (!textToId.has(text)) textToId.set(text, id);

/** Smallest vocabulary size this tokenizer needs (every model's real vocab is larger). */
export const TOKENIZER_VOCAB_SIZE = PIECE_BASE + pieceStrings.length * 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function pushBytes(out: number[], s: string): void {
  for (const b of encoder.encode(s)) out.push(BYTE_BASE + b);
}

// Pieces: optional single leading space + ASCII letters | anything else one character at a time.
const PIECE_RE = / ?[A-Za-z]+|[^]/gu;

export function encode(text: string, addSpecialTokens = true): number[] {
  const out: number[] = [];
  if (addSpecialTokens) out.push(BOS_TOKEN_ID);
  for (const m of text.matchAll(PIECE_RE)) {
    const piece = m[0];
    const known = textToId.get(piece);
    if (known !== undefined) {
      out.push(known);
      continue;
    }
    if (/^ ?[A-Za-z]+$/.test(piece)) {
      const space = piece.startsWith(' ');
      const letters = space ? piece.slice(1) : piece;
      for (let i = 0; i < letters.length; i += 2) {
        const chunk = (i === 0 && space ? ' ' : '') + letters.slice(i, i + 2);
        out.push(textToId.get(chunk)!);
      }
      continue;
    }
    pushBytes(out, piece);
  }
  return out;
}

/** Text of one token; specials are skipped as with vLLM's default skip_special_tokens. */
export function tokenText(id: number, skipSpecial = true): string {
  if (id < BYTE_BASE) return skipSpecial ? '' : (SPECIALS[id] ?? '');
  if (id < WORD_BASE) return decoder.decode(new Uint8Array([id - BYTE_BASE]));
  return idToText.get(id) ?? '';
}

export function decode(ids: readonly number[], skipSpecial = true): string {
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) out += decoder.decode(new Uint8Array(bytes));
    bytes = [];
  };
  for (const id of ids) {
    if (id >= BYTE_BASE && id < WORD_BASE) {
      bytes.push(id - BYTE_BASE);
      continue;
    }
    flush();
    out += tokenText(id, skipSpecial);
  }
  flush();
  return out;
}

/** Token id of a filler word (with a leading space unless first). */
export function wordTokenId(wordIndex: number, leadingSpace: boolean): number {
  return WORD_BASE + 2 * (wordIndex % WORDS.length) + (leadingSpace ? 1 : 0);
}

/** True for ids this tokenizer can turn back into text. */
export function isKnownTokenId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < TOKENIZER_VOCAB_SIZE;
}

export interface ChatMessageLike {
  role: string;
  content: string;
}

/**
 * A fixed chat template (Llama-3-like markers) so chat prompts are counted the same way by
 * /tokenize and by the completion endpoints.
 */
export function renderChat(messages: readonly ChatMessageLike[], addGenerationPrompt: boolean): string {
  let s = '';
  for (const m of messages) s += `${SPECIALS[2]}${m.role}${SPECIALS[3]}\n\n${m.content}`;
  if (addGenerationPrompt) s += `${SPECIALS[2]}assistant${SPECIALS[3]}\n\n`;
  return s;
}

/** Encodes a rendered chat template: the marker strings become their special ids. */
export function encodeChat(messages: readonly ChatMessageLike[], addGenerationPrompt: boolean, addSpecialTokens = true): number[] {
  const out: number[] = addSpecialTokens ? [BOS_TOKEN_ID] : [];
  const pushHeader = (role: string): void => {
    out.push(2, ...encode(role, false), 3, ...encode('\n\n', false));
  };
  for (const m of messages) {
    pushHeader(m.role);
    out.push(...encode(m.content, false));
  }
  if (addGenerationPrompt) pushHeader('assistant');
  return out;
}
