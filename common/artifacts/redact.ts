/**
 * Removes secrets from imported artifacts (reference/genai-perf.md §6 pitfall 11): AIPerf echoes
 * `--api-key` in `input_config.endpoint.api_key` and `cli_command`; GenAI-Perf keeps `-H` headers in
 * `input_config.input.header`; perf_analyzer keeps request bodies; URLs can carry tokens.
 * Works on raw text (the artifact kept with the run, still valid JSON/CSV afterwards) and on
 * parsed values (the normalised import). Secrets become "[redacted]".
 */

export const REDACTED = '[redacted]';

const SECRET_KEY_NAMES = 'api[_-]?key|apikey|x-api-key|api[_-]?token|authorization|proxy-authorization|access[_-]?token|auth[_-]?token|bearer[_-]?token|refresh[_-]?token|hf[_-]?token|hugging_?face_hub_token|token|password|passwd|secret|client[_-]?secret|cookie';
const SECRET_KEY = new RegExp(`^(?:${SECRET_KEY_NAMES})$`, 'i');

// Each pattern keeps what identifies the secret (flag, header or key name) and replaces the value.
const TEXT_RULES: [RegExp, string][] = [
  // JSON "key": "value" and, inside JSON-in-JSON strings, \"key\": \"value\".
  [new RegExp(`("(?:${SECRET_KEY_NAMES})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${REDACTED}"`],
  [new RegExp(`(\\\\"(?:${SECRET_KEY_NAMES})\\\\"\\s*:\\s*)\\\\"(?:[^"\\\\]|\\\\[^"])*\\\\"`, 'gi'), `$1\\"${REDACTED}\\"`],
  // argv: --api-key X, --api-key=X, --api-key "X", --api-key \"X\" (inside a JSON string).
  [/(--(?:api[-_]key|api[-_]token|hf[-_]token|auth[-_]token|token|password|secret)(?:=|\s+))(?:\\"(?:[^"\\]|\\[^"])*\\"|"[^"]*"|'[^']*'|[^\s"'\\]+)/gi, `$1${REDACTED}`],
  // Headers in -H 'Authorization: Bearer X', "header": "Authorization:X", curl-style lines.
  [/\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|cookie)(\s*[:=]\s*)(?:(?:bearer|basic|token)\s+)?[^\s"'\\,;]+/gi, `$1$2${REDACTED}`],
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${REDACTED}`],
  // URL query parameters and user:password@ in URLs.
  [/([?&](?:api[_-]?key|apikey|key|token|access_token|auth|sig|signature|password|secret)=)[^&#\s"'\\]+/gi, `$1${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"'\\]+:)[^@\s/"'\\]+@/gi, `$1${REDACTED}@`],
  // Environment assignments of well-known variables.
  [/\b((?:HF_TOKEN|HUGGING_FACE_HUB_TOKEN|OPENAI_API_KEY|NGC_API_KEY|NVIDIA_API_KEY|API_KEY)=)(?:"[^"]*"|'[^']*'|[^\s"'\\]+)/g, `$1${REDACTED}`],
  // Token formats recognisable on their own.
  [/\b(?:sk-[A-Za-z0-9_-]{16,}|hf_[A-Za-z0-9]{20,}|nvapi-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})\b/g, REDACTED],
];

// Where a secret could start. Every rule above matches within one line, so only the lines where
// this finds something are rewritten: a 200 MB jsonl of numbers costs one scan. ("token" alone
// would hit every AIPerf record through output_token_count, hence token followed by a delimiter;
// URL credentials are found by their "@", because a pattern starting at ":" would be tried at every
// key of a JSON file and triples the scan time.)
const CANDIDATE = /key|auth|bearer|passw|secret|cookie|token["'=:\s]|[?&]sig(?:nature)?=|sk-|hf_|nvapi-|gh[pousr]_|xox[abpr]-|@/gi;

function redactLine(line: string): string {
  let out = line;
  for (const [re, rep] of TEXT_RULES) out = out.replace(re, rep);
  return out;
}

/** Redacts secrets in text; the result has the same syntax (JSON stays JSON). */
export function redactText(text: string): string {
  CANDIDATE.lastIndex = 0;
  let m = CANDIDATE.exec(text);
  if (!m) return text;
  const parts: string[] = [];
  let done = 0;
  while (m) {
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    let lineEnd = text.indexOf('\n', m.index);
    if (lineEnd < 0) lineEnd = text.length;
    parts.push(text.slice(done, lineStart), redactLine(text.slice(lineStart, lineEnd)));
    done = lineEnd;
    CANDIDATE.lastIndex = lineEnd;
    m = CANDIDATE.exec(text);
  }
  parts.push(text.slice(done));
  return parts.join('');
}

const CANDIDATE_ONE = new RegExp(CANDIDATE.source, 'i');

/**
 * Whether a parsed value has any key or string where a secret could be. Lets a reader that has
 * already parsed every record of a large file (AIPerf jsonl) rewrite only the lines that need it,
 * instead of scanning hundreds of megabytes of numbers. `seen` caches verdicts for repeated
 * strings (keys, units) across records.
 */
export function mayHoldSecret(value: unknown, seen: Map<string, boolean>): boolean {
  if (typeof value === 'string') {
    let v = seen.get(value);
    if (v === undefined) {
      v = CANDIDATE_ONE.test(value);
      // Keys, units and phase names repeat; ids (UUIDs) do not, and caching them grew the map by
      // several entries per record, which cost more than the regex.
      if (value.length <= 24 && seen.size < 4096) seen.set(value, v);
    }
    return v;
  }
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    // Indexed loop: per-request latency lists hold hundreds of numbers per record.
    for (let i = 0; i < value.length; i++) {
      const x: unknown = value[i];
      if (typeof x !== 'number' && mayHoldSecret(x, seen)) return true;
    }
    return false;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) if (mayHoldSecret(k, seen) || mayHoldSecret(o[k], seen)) return true;
  return false;
}

/** Redacts the given lines (0-based) of a text, leaving every other line as it is. */
export function redactLines(text: string, lineIndexes: readonly number[]): string {
  if (lineIndexes.length === 0) return text;
  const lines = text.split('\n');
  for (const i of lineIndexes) if (lines[i] !== undefined) lines[i] = redactLine(lines[i]!);
  return lines.join('\n');
}

/** True when a key names a secret (`api_key`, `Authorization`, `token`, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A deep copy of a parsed value with secret-named keys blanked and every string redacted. */
export function redactValue<T>(value: T): T {
  const walk = (v: unknown, key: string | null): unknown => {
    if (key !== null && isSecretKey(key) && v !== null && (typeof v === 'string' || typeof v === 'number')) return REDACTED;
    if (typeof v === 'string') return redactText(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, null));
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = walk(x, k);
      return o;
    }
    return v;
  };
  return walk(value, null) as T;
}
