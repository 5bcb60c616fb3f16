/**
 * Parses a `vllm serve` command line the way vLLM's argparse would for the flags the mocker
 * understands, and tolerates every other flag with a warning (the issue: "any other flag is
 * tolerated with a warning"). `--flag=value`, `--flag value`, `--no-flag` booleans and vLLM's
 * dotted JSON form (`--kv-transfer-config.kv_role kv_producer`, list append with `+`) all work.
 */

export type FlagKind = 'string' | 'number' | 'bool' | 'json';

/** Flags the mocker reads, by their canonical `--kebab-case` name. */
export const KNOWN_FLAGS: Record<string, FlagKind> = {
  '--model': 'string',
  '--host': 'string',
  '--port': 'number',
  '--served-model-name': 'string',
  '--tensor-parallel-size': 'number',
  '--block-size': 'number',
  '--max-model-len': 'string',
  '--gpu-memory-utilization': 'number',
  '--enforce-eager': 'bool',
  '--kv-transfer-config': 'json',
  '--max-num-seqs': 'number',
  '--max-num-batched-tokens': 'number',
  '--num-gpu-blocks-override': 'number',
  '--enable-prefix-caching': 'bool',
  '--disable-log-stats': 'bool',
  '--disable-log-requests': 'bool',
  '--enable-log-requests': 'bool',
  '--api-key': 'string',
  '--dtype': 'string',
  '--kv-cache-dtype': 'string',
  '--seed': 'number',
  '--trust-remote-code': 'bool',
  '--enable-prompt-tokens-details': 'bool',
  '--enable-force-include-usage': 'bool',
  '--root-path': 'string',
  // Mocker-only: latency profile, simulated hardware, determinism (docs/mocker.md).
  '--mocker-profile': 'string',
  '--mocker-seed': 'number',
  '--mocker-gpu': 'string',
  '--mocker-model-config': 'string',
  '--mocker-time-scale': 'number',
  '--mocker-prefill-tokens-per-s': 'number',
  '--mocker-tp-efficiency': 'number',
  '--mocker-decode-base-ms': 'number',
  '--mocker-decode-per-seq-ms': 'number',
  '--mocker-decode-per-ctx-token-us': 'number',
  '--mocker-transfer-mode': 'string',
  '--mocker-transfer-per-block-us': 'number',
  '--mocker-transfer-descriptor-slowdown': 'number',
  '--mocker-transfer-base-ms': 'number',
  '--mocker-eos-probability': 'number',
  '--mocker-context-overflow': 'string',
  '--mocker-vllm-version': 'string',
};

/** vLLM aliases of the flags above. */
const ALIASES: Record<string, string> = {
  '-tp': '--tensor-parallel-size',
  '--tp': '--tensor-parallel-size',
  '--max-model-length': '--max-model-len',
};

export interface ParsedServeArgs {
  model: string | undefined;
  values: Map<string, string | number | boolean | Record<string, unknown>>;
  warnings: string[];
  errors: string[];
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown, append: boolean): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (append) {
    const prev = cur[last];
    cur[last] = Array.isArray(prev) ? [...prev, value] : [value];
  } else {
    cur[last] = value;
  }
}

/** A dotted-flag value as vLLM reads it: JSON when it parses, else the plain string. */
function dottedValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export function parseServeArgs(argv: readonly string[]): ParsedServeArgs {
  const values: ParsedServeArgs['values'] = new Map();
  const warnings: string[] = [];
  const errors: string[] = [];
  let model: string | undefined;
  const args = [...argv];
  // `vllm serve MODEL …` pasted whole, or just `serve MODEL …`.
  if (args[0] === 'vllm') args.shift();
  if (args[0] === 'serve' && args.length > 1) args.shift();

  for (let i = 0; i < args.length; i++) {
    const tok = args[i]!;
    if (!tok.startsWith('-') || tok === '-') {
      if (model === undefined) model = tok;
      else warnings.push(`ignoring extra positional argument "${tok}"`);
      continue;
    }
    let name = tok;
    let inline: string | undefined;
    const eq = tok.indexOf('=');
    if (eq > 0) {
      name = tok.slice(0, eq);
      inline = tok.slice(eq + 1);
    }
    name = name.replace(/_/g, '-');
    name = ALIASES[name] ?? name;
    const takeValue = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) return undefined;
      i++;
      return next;
    };

    // Dotted JSON sub-keys: --kv-transfer-config.kv_role kv_producer
    const dot = name.indexOf('.');
    if (dot > 0) {
      const base = name.slice(0, dot);
      let sub = tok.slice(dot, eq > 0 ? eq : undefined).slice(1);
      const append = sub.endsWith('+');
      if (append) sub = sub.slice(0, -1);
      const raw = takeValue();
      if (raw === undefined) {
        errors.push(`${base}.${sub} needs a value`);
        continue;
      }
      if (KNOWN_FLAGS[base] === 'json') {
        const prev = values.get(base);
        const obj = typeof prev === 'object' && prev !== null ? (prev as Record<string, unknown>) : {};
        setPath(obj, sub.split('.'), dottedValue(raw), append);
        values.set(base, obj);
      } else {
        warnings.push(`ignoring unsupported flag ${base}.${sub} (the mocker does not simulate it)`);
      }
      continue;
    }

    let kind = KNOWN_FLAGS[name];
    let negated = false;
    if (kind === undefined && name.startsWith('--no-') && KNOWN_FLAGS['--' + name.slice(5)] === 'bool') {
      name = '--' + name.slice(5);
      kind = 'bool';
      negated = true;
    }
    if (kind === undefined) {
      // Unknown flag: consume a following value if there is one, so "--swap-space 4" stays one flag.
      const v = takeValue();
      warnings.push(`ignoring unsupported flag ${name}${v === undefined ? '' : ' ' + v} (the mocker does not simulate it)`);
      continue;
    }
    if (kind === 'bool') {
      if (negated) {
        values.set(name, false);
      } else if (inline !== undefined) {
        values.set(name, !/^(false|0|no)$/i.test(inline));
      } else {
        const next = args[i + 1];
        if (next !== undefined && /^(true|false)$/i.test(next)) {
          i++;
          values.set(name, next.toLowerCase() === 'true');
        } else {
          values.set(name, true);
        }
      }
      continue;
    }
    const raw = takeValue();
    if (raw === undefined) {
      errors.push(`${name} needs a value`);
      continue;
    }
    if (kind === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) errors.push(`${name} must be a number, got "${raw}"`);
      else values.set(name, n);
    } else if (kind === 'json') {
      try {
        const parsed = JSON.parse(raw) as unknown;
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        const prev = values.get(name);
        values.set(name, { ...(typeof prev === 'object' && prev !== null ? (prev as object) : {}), ...(parsed as object) });
      } catch (err) {
        errors.push(`${name} must be a JSON object, got ${JSON.stringify(raw)} (${err instanceof Error ? err.message : String(err)})`);
      }
    } else {
      values.set(name, raw);
    }
  }
  const modelFlag = values.get('--model');
  if (typeof modelFlag === 'string') {
    if (model !== undefined && model !== modelFlag) warnings.push(`both a positional model "${model}" and --model "${modelFlag}" given; using the positional one, as vLLM does`);
    model ??= modelFlag;
  }
  return { model, values, warnings, errors };
}
