import { UserFacingError } from '../errors';

/**
 * Parser for the Prometheus text exposition format (version 0.0.4, and the OpenMetrics text that
 * vLLM's prometheus_client can also emit): HELP/TYPE lines, labels with `\\`, `\"` and `\n`
 * escapes, NaN/±Inf values, optional millisecond timestamps, OpenMetrics exemplars and `# EOF`.
 * Written here because the one npm parser (parse-prometheus-text-format) is unmaintained since
 * 2019 and drops timestamps; this one has no dependencies, so it runs in the agent and the renderer.
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'info' | 'stateset' | 'gaugehistogram' | 'unknown';

export interface PromSeries {
  /** The sample's own name, e.g. `vllm:nixl_xfer_time_seconds_sum`. */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface PromFamily {
  /** The family name from `# TYPE`/`# HELP` (or the sample name when neither was given). */
  name: string;
  type: PromType;
  help?: string;
  samples: PromSeries[];
}

export interface PromText {
  families: PromFamily[];
  /** Every sample, in file order. */
  samples: PromSeries[];
}

const TYPES = new Set<PromType>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'info', 'stateset', 'gaugehistogram', 'unknown']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_gsum', '_gcount', '_info'];

function fail(lineNo: number, line: string, why: string): never {
  const shown = line.length > 120 ? `${line.slice(0, 120)}…` : line;
  throw new UserFacingError('prom-parse', `Prometheus metrics text, line ${lineNo}: ${why} (line: ${JSON.stringify(shown)}). Check that the URL serves /metrics in Prometheus text format.`);
}

/** Parses a float the way Prometheus does: decimal/exponent forms plus NaN, Inf, +Inf, -Inf. */
export function parsePromNumber(s: string): number | undefined {
  const l = s.toLowerCase();
  if (l === 'nan') return Number.NaN;
  if (l === '+inf' || l === 'inf' || l === '+infinity' || l === 'infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) && !/^[+-]?0x[0-9a-f]+$/i.test(s)) return undefined;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':';
}
function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9');
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Parses one sample line; returns null for a blank line. */
function parseSampleLine(line: string, lineNo: number): PromSeries {
  let i = 0;
  const n = line.length;
  const skipWs = () => {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  };
  skipWs();
  const start = i;
  if (i >= n || !isNameStart(line[i]!)) fail(lineNo, line, 'expected a metric name');
  while (i < n && isNameChar(line[i]!)) i++;
  const name = line.slice(start, i);
  const labels: Record<string, string> = {};
  skipWs();
  if (line[i] === '{') {
    i++;
    for (;;) {
      skipWs();
      if (line[i] === '}') {
        i++;
        break;
      }
      const ls = i;
      if (i >= n || !isNameStart(line[i]!)) fail(lineNo, line, 'expected a label name or "}"');
      while (i < n && isNameChar(line[i]!)) i++;
      const lname = line.slice(ls, i);
      skipWs();
      if (line[i] !== '=') fail(lineNo, line, `expected "=" after label ${lname}`);
      i++;
      skipWs();
      if (line[i] !== '"') fail(lineNo, line, `expected a quoted value for label ${lname}`);
      i++;
      let v = '';
      for (;;) {
        if (i >= n) fail(lineNo, line, `unterminated value of label ${lname}`);
        const c = line[i]!;
        if (c === '\\') {
          const e = line[i + 1];
          if (e === 'n') v += '\n';
          else if (e === '\\' || e === '"') v += e;
          else fail(lineNo, line, `bad escape "\\${e ?? ''}" in label ${lname}`);
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
      if (lname in labels) fail(lineNo, line, `label ${lname} appears twice`);
      labels[lname] = v;
      skipWs();
      if (line[i] === ',') {
        i++;
        continue;
      }
      if (line[i] === '}') {
        i++;
        break;
      }
      fail(lineNo, line, 'expected "," or "}" after a label');
    }
  }
  skipWs();
  // OpenMetrics exemplars follow " # "; they are not part of the sample.
  const hash = line.indexOf(' #', i);
  const rest = (hash >= 0 ? line.slice(i, hash) : line.slice(i)).trim().split(/[ \t]+/).filter(Boolean);
  if (rest.length === 0) fail(lineNo, line, `no value for ${name}`);
  if (rest.length > 2) fail(lineNo, line, 'unexpected text after the value and timestamp');
  const value = parsePromNumber(rest[0]!);
  if (value === undefined) fail(lineNo, line, `"${rest[0]}" is not a number`);
  const s: PromSeries = { name, labels, value };
  if (rest.length === 2) {
    const ts = rest[1]!;
    if (!/^-?\d+(\.\d+)?$/.test(ts)) fail(lineNo, line, `"${ts}" is not a timestamp`);
    // OpenMetrics timestamps are seconds with a fraction; 0.0.4 timestamps are integer milliseconds.
    s.timestampMs = ts.includes('.') ? Number(ts) * 1000 : Number(ts);
  }
  return s;
}

/** Parses a /metrics response. Throws UserFacingError('prom-parse') naming the bad line. */
export function parsePromText(text: string): PromText {
  const families = new Map<string, PromFamily>();
  const samples: PromSeries[] = [];
  const familyFor = (sampleName: string): PromFamily => {
    const exact = families.get(sampleName);
    if (exact) return exact;
    for (const suf of SUFFIXES) {
      if (sampleName.endsWith(suf)) {
        const f = families.get(sampleName.slice(0, -suf.length));
        if (f) return f;
      }
    }
    const f: PromFamily = { name: sampleName, type: 'untyped', samples: [] };
    families.set(sampleName, f);
    return f;
  };
  const declared = (name: string): PromFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    let line = lines[k]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (!m) continue; // other comments, `# EOF`, `# UNIT …`
      const f = declared(m[2]!);
      if (m[1] === 'HELP') f.help = unescapeHelp(m[3] ?? '');
      else {
        const t = (m[3] ?? '').trim().toLowerCase() as PromType;
        if (!TYPES.has(t)) fail(k + 1, line, `unknown metric type "${m[3] ?? ''}"`);
        f.type = t;
      }
      continue;
    }
    const s = parseSampleLine(line, k + 1);
    samples.push(s);
    familyFor(s.name).samples.push(s);
  }
  return { families: [...families.values()].filter((f) => f.samples.length > 0 || f.help !== undefined || f.type !== 'untyped'), samples };
}

/** The canonical key of a series, `name{a="x",b="y"}` with labels sorted, as stored in samples.jsonl. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${name}{${keys.map((k) => `${k}="${esc(labels[k]!)}"`).join(',')}}`;
}

/** All samples as a flat `seriesKey → value` map (the `values` of a samples.jsonl line). */
export function toSeriesValues(parsed: PromText): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of parsed.samples) out[seriesKey(s.name, s.labels)] = s.value;
  return out;
}

/** Sum of every series named `name` (any labels) in a `seriesKey → value` map; undefined when none. */
export function sumSeries(values: Record<string, number>, name: string): number | undefined {
  let sum: number | undefined;
  for (const [k, v] of Object.entries(values)) {
    if (k === name || (k.startsWith(name) && k[name.length] === '{')) sum = (sum ?? 0) + v;
  }
  return sum;
}

export interface PromHistogram {
  labels: Record<string, string>;
  /** Cumulative counts by upper bound, ascending, ending with +Inf when exposed. */
  buckets: { le: number; count: number }[];
  sum: number | undefined;
  count: number | undefined;
}

/** Groups a histogram family's samples into one histogram per label set (without `le`). */
export function histograms(family: PromFamily): PromHistogram[] {
  const byKey = new Map<string, PromHistogram>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    let h = byKey.get(key);
    if (!h) {
      h = { labels: rest, buckets: [], sum: undefined, count: undefined };
      byKey.set(key, h);
    }
    if (s.name.endsWith('_bucket') && le !== undefined) {
      const bound = parsePromNumber(le);
      if (bound !== undefined) h.buckets.push({ le: bound, count: s.value });
    } else if (s.name.endsWith('_sum')) h.sum = s.value;
    else if (s.name.endsWith('_count')) h.count = s.value;
  }
  for (const h of byKey.values()) h.buckets.sort((a, b) => a.le - b.le);
  return [...byKey.values()];
}
