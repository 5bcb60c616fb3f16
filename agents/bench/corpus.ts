import { seededRng } from './seeded-rng';

/**
 * The text synthetic prompts are cut from. GenAI-Perf and AIPerf cut theirs from a bundled
 * Shakespeare text (reference/genai-perf.md §4.5); Handoff does not ship that text, so it builds a
 * plain-English corpus from a fixed word list and a fixed seed: the same on every host, varied
 * enough that prompts starting at random offsets do not share prefixes (no accidental prefix-cache
 * hits), and made of ordinary words so real tokenizers see realistic density.
 */
const WORDS = (
  'time person year way day thing man world life hand part child eye woman place work week case point ' +
  'government company number group problem fact river mountain garden window letter story answer ' +
  'question reason moment journey message evening morning winter summer season harvest village city ' +
  'market bridge harbor voyage lantern candle shadow silence thunder meadow forest castle kingdom ' +
  'be have do say get make go know take see come think look want give use find tell ask seem feel ' +
  'try leave call keep carry follow gather wander remember promise listen whisper travel return ' +
  'good new first last long great little own other old right big high different small large next ' +
  'early young important few public bad same able quiet bright gentle steady ancient distant golden ' +
  'the of and to in a that it for on with as at by from this but or an which their one all would ' +
  'there what so up out if about who get them some could into than then now only its also after ' +
  'because over how our well even back any these give most us never always often perhaps again'
).split(' ');

let cached: string | null = null;

/** About 60,000 words in sentences and paragraphs. */
export function corpusText(): string {
  if (cached !== null) return cached;
  const rng = seededRng(0x5eed);
  const paragraphs: string[] = [];
  for (let p = 0; p < 600; p++) {
    const sentences: string[] = [];
    const n = 4 + rng.int(5);
    for (let s = 0; s < n; s++) {
      const len = 8 + rng.int(18);
      const words: string[] = [];
      for (let w = 0; w < len; w++) words.push(WORDS[rng.int(WORDS.length)]!);
      const sentence = words.join(' ');
      sentences.push(sentence.charAt(0).toUpperCase() + sentence.slice(1) + (rng.next() < 0.15 ? '?' : '.'));
    }
    paragraphs.push(sentences.join(' '));
  }
  cached = paragraphs.join('\n');
  return cached;
}
