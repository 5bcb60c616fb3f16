import { parseCsvRows } from '../../../common/artifacts/csv-table';
import type { Comparison, MetricDelta } from '../../../common/compare';
import { UserFacingError } from '../../../common/errors';
import { displayValues, requestMetrics } from '../../../common/metrics';
import { metricInfo, type MetricKey } from '../../../common/metrics/metric-keys';
import { NixlTransferRecord } from '../../../common/kv/nixl-transfer';
import { scalarRows, DISTRIBUTION_ORDER, STAT_ORDER } from '../../../common/report-model';
import type { RequestRecord } from '../../../common/run-record';
import type { MetricsView } from '../../../common/run-view';

/**
 * CSV exports (RFC 4180, LF line ends, UTF-8): one row per request with its raw timestamps and
 * derived metrics, and one row per aggregate figure. Numbers are written with JavaScript's
 * shortest round-trip form, so parsing a file back gives the same records and figures
 * (parseRequestsCsv, parseMetricsCsv; docs/reports.md).
 */

function field(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function line(cells: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return cells.map(field).join(',') + '\n';
}

export const REQUEST_COLUMNS = [
  'runId',
  'id',
  'phase',
  'sendNs',
  'firstTokenNs',
  'firstContentNs',
  'lastTokenNs',
  'inputTokens',
  'outputTokensUsage',
  'outputTokensChunks',
  'outputTokensTokenizer',
  'outputTokensReasoning',
  'errorCode',
  'errorType',
  'errorMessage',
  'ttftMs',
  'ttstMs',
  'itlMs',
  'requestLatencyMs',
  'tpsPerUser',
  'isl',
  'osl',
  'chunkCount',
  'chunkNs',
] as const;

/** Per-request rows of several runs; `streaming` decides which latency columns exist (docs/metrics.md §2). */
export function requestsCsv(runs: ReadonlyArray<{ runId: string; streaming: boolean; records: readonly RequestRecord[] }>): string {
  const parts: string[] = [line(REQUEST_COLUMNS)];
  for (const { runId, streaming, records } of runs) {
    for (const r of records) {
      const v = displayValues(requestMetrics(r, streaming));
      parts.push(
        line([
          runId,
          r.id,
          r.phase,
          r.sendNs,
          r.firstTokenNs,
          r.firstContentNs,
          r.lastTokenNs,
          r.inputTokens,
          r.outputTokens.usage,
          r.outputTokens.chunks,
          r.outputTokens.tokenizer,
          r.outputTokens.reasoning,
          r.error?.code,
          r.error?.type,
          r.error ? r.error.message : undefined,
          v.ttftMs,
          v.ttstMs,
          v.itlMs,
          v.requestLatencyMs,
          v.tpsPerUser,
          v.isl,
          v.osl,
          r.chunkNs?.length,
          r.chunkNs ? r.chunkNs.join(' ') : undefined,
        ]),
      );
    }
  }
  return parts.join('');
}

function header(rows: { cells: string[]; line: number }[], expected: readonly string[], file: string): Map<string, number> {
  const head = rows[0]?.cells ?? [];
  const idx = new Map(head.map((h, i) => [h, i]));
  const missing = expected.filter((c) => !idx.has(c));
  if (missing.length) throw new UserFacingError('csv-invalid', `${file} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: it is not a Handoff CSV export, or it was edited.`);
  return idx;
}

function numberOf(text: string, file: string, lineNo: number, col: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UserFacingError('csv-invalid', `${file}:${lineNo}: column ${col} is "${text}", not a number.`);
  return n;
}

/**
 * Reads a requests CSV back into records, per run. Empty cells are absent fields: a required
 * nullable field (firstTokenNs, inputTokens, …) becomes null, an optional one (firstContentNs,
 * tokenizer and reasoning counts, chunkNs) is left out, so a null optional field comes back absent.
 */
export function parseRequestsCsv(text: string, file = 'requests.csv'): Map<string, RequestRecord[]> {
  const rows = parseCsvRows(text, file).filter((r) => r.cells.some((c) => c !== ''));
  const idx = header(rows, REQUEST_COLUMNS, file);
  const out = new Map<string, RequestRecord[]>();
  for (const row of rows.slice(1)) {
    const get = (c: (typeof REQUEST_COLUMNS)[number]) => row.cells[idx.get(c)!] ?? '';
    const opt = (c: (typeof REQUEST_COLUMNS)[number]) => (get(c) === '' ? null : numberOf(get(c), file, row.line, c));
    const phase = get('phase');
    if (phase !== '' && phase !== 'warmup' && phase !== 'profiling') throw new UserFacingError('csv-invalid', `${file}:${row.line}: phase is "${phase}", expected warmup, profiling or empty.`);
    const errorPresent = get('errorMessage') !== '' || get('errorCode') !== '' || get('errorType') !== '';
    const rec: RequestRecord = {
      ...(get('id') !== '' ? { id: get('id') } : {}),
      ...(phase !== '' ? { phase } : {}),
      sendNs: numberOf(get('sendNs'), file, row.line, 'sendNs'),
      ...(get('chunkNs') !== '' ? { chunkNs: get('chunkNs').split(' ').map((x) => numberOf(x, file, row.line, 'chunkNs')) } : get('chunkCount') === '0' ? { chunkNs: [] } : {}),
      firstTokenNs: opt('firstTokenNs'),
      ...(get('firstContentNs') !== '' ? { firstContentNs: opt('firstContentNs') } : {}),
      lastTokenNs: opt('lastTokenNs'),
      inputTokens: opt('inputTokens'),
      outputTokens: {
        usage: opt('outputTokensUsage'),
        chunks: opt('outputTokensChunks'),
        ...(get('outputTokensTokenizer') !== '' ? { tokenizer: opt('outputTokensTokenizer') } : {}),
        ...(get('outputTokensReasoning') !== '' ? { reasoning: opt('outputTokensReasoning') } : {}),
      },
      error: errorPresent ? { code: opt('errorCode'), type: get('errorType') === '' ? null : get('errorType'), message: get('errorMessage') } : null,
    };
    const runId = get('runId');
    const list = out.get(runId) ?? [];
    list.push(rec);
    out.set(runId, list);
  }
  return out;
}

export const TRANSFER_COLUMNS = ['runId', 'worker', 'agent', 'atMs', 'atEarliestMs', 'durationUs', 'postUs', 'bytes', 'descriptors', 'blocks', 'perBlockUs', 'direction'] as const;

/** One row per NIXL transfer (transfers.jsonl, docs/nixl-telemetry.md) of each run that has them. */
export function transfersCsv(runs: ReadonlyArray<{ runId: string; transfers: readonly NixlTransferRecord[] }>): string {
  const parts: string[] = [line(TRANSFER_COLUMNS)];
  for (const { runId, transfers } of runs) {
    for (const x of transfers) parts.push(line([runId, x.worker, x.agent, x.atMs, x.atEarliestMs, x.durationUs, x.postUs, x.bytes, x.descriptors, x.blocks, x.perBlockUs, x.direction]));
  }
  return parts.join('');
}

/** Reads a transfers CSV back into records per run, each checked against the transfers.jsonl schema. */
export function parseTransfersCsv(text: string, file = 'transfers.csv'): Map<string, NixlTransferRecord[]> {
  const rows = parseCsvRows(text, file).filter((r) => r.cells.some((c) => c !== ''));
  const idx = header(rows, TRANSFER_COLUMNS, file);
  const out = new Map<string, NixlTransferRecord[]>();
  for (const row of rows.slice(1)) {
    const get = (c: (typeof TRANSFER_COLUMNS)[number]) => row.cells[idx.get(c)!] ?? '';
    const n = (c: (typeof TRANSFER_COLUMNS)[number]) => numberOf(get(c), file, row.line, c);
    const opt = (c: (typeof TRANSFER_COLUMNS)[number]) => (get(c) === '' ? null : n(c));
    const parsed = NixlTransferRecord.safeParse({
      worker: get('worker'),
      agent: get('agent'),
      atMs: n('atMs'),
      durationUs: n('durationUs'),
      postUs: opt('postUs'),
      bytes: n('bytes'),
      descriptors: opt('descriptors'),
      blocks: n('blocks'),
      perBlockUs: opt('perBlockUs'),
      ...(get('direction') !== '' ? { direction: get('direction') } : {}),
      ...(get('atEarliestMs') !== '' ? { atEarliestMs: n('atEarliestMs') } : {}),
    });
    if (!parsed.success) throw new UserFacingError('csv-invalid', `${file}:${row.line}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
    const list = out.get(get('runId')) ?? [];
    list.push(parsed.data);
    out.set(get('runId'), list);
  }
  return out;
}

export const METRIC_COLUMNS = ['runId', 'runName', 'metric', 'label', 'unit', 'stat', 'value'] as const;

/** One row per figure: scalars with stat "value", then each distribution's count, avg, std, min, p1…p99, max and sum. */
export function metricsCsv(runs: ReadonlyArray<{ runId: string; runName: string | null; gpuCount: number | null; metrics: MetricsView | null }>): string {
  const parts: string[] = [line(METRIC_COLUMNS)];
  for (const r of runs) {
    if (!r.metrics) continue;
    for (const s of scalarRows(r.metrics, r.gpuCount, { all: true })) parts.push(line([r.runId, r.runName, s.key, s.label, s.unit, 'value', s.value]));
    const seen = new Set<string>();
    for (const k of [...DISTRIBUTION_ORDER, ...Object.keys(r.metrics.distributions)]) {
      const stats = r.metrics.distributions[k];
      if (!stats || seen.has(k)) continue;
      seen.add(k);
      const info = (() => {
        try {
          return metricInfo(k as MetricKey);
        } catch {
          return { label: k, unit: '' };
        }
      })();
      const order = [...STAT_ORDER, ...Object.keys(stats).filter((s) => !(STAT_ORDER as readonly string[]).includes(s))];
      for (const s of order) if (stats[s] !== undefined) parts.push(line([r.runId, r.runName, k, info?.label ?? k, info?.unit ?? '', s, stats[s]]));
    }
  }
  return parts.join('');
}

/** Reads a metrics CSV back: run id → scalars and distributions (derived per-GPU throughput included as a scalar). */
export function parseMetricsCsv(text: string, file = 'metrics.csv'): Map<string, MetricsView> {
  const rows = parseCsvRows(text, file).filter((r) => r.cells.some((c) => c !== ''));
  const idx = header(rows, METRIC_COLUMNS, file);
  const out = new Map<string, MetricsView>();
  for (const row of rows.slice(1)) {
    const get = (c: (typeof METRIC_COLUMNS)[number]) => row.cells[idx.get(c)!] ?? '';
    const m = out.get(get('runId')) ?? { scalars: {}, distributions: {} };
    const v = numberOf(get('value'), file, row.line, 'value');
    if (get('stat') === 'value') m.scalars[get('metric')] = v;
    else (m.distributions[get('metric')] ??= {})[get('stat')] = v;
    out.set(get('runId'), m);
  }
  return out;
}

export const COMPARISON_COLUMNS = ['loadPoint', 'metric', 'stat', 'label', 'unit', 'better', 'a', 'b', 'delta', 'pctChange', 'change', 'key'] as const;

/** The per-metric deltas of a comparison (every load point for sweeps), B relative to A. */
export function comparisonCsv(c: Comparison): string {
  const parts: string[] = [line(COMPARISON_COLUMNS)];
  const rows = (lp: string | null, ms: readonly MetricDelta[]) => {
    for (const m of ms) parts.push(line([lp, m.metric, m.stat, m.label, m.unit, m.better, m.a, m.b, m.delta, m.pctChange, m.change, m.key]));
  };
  if (c.kind === 'runs') rows(c.loadPoint, c.metrics);
  else for (const p of c.points) rows(p.loadPoint, p.metrics);
  return parts.join('');
}
