import type { RunViewStatus } from '../../../common/run-view';

/** `1,234`, `12.3`, `0.456`: three significant figures below 100, whole numbers above. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(3);
}

/** Six significant digits, for tables where two close figures must be told apart: `27.7612`, `1,234.57`. */
export function formatPrecise(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Number(v.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** Milliseconds as people read latencies: `1.23 s`, `120 ms`, `18.4 ms`, `0.52 ms`, `5.6 µs`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  if (a >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (a >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (a >= 100) return `${Math.round(ms)} ms`;
  if (a >= 10) return `${ms.toFixed(1)} ms`;
  if (a >= 0.1) return `${ms.toFixed(2)} ms`;
  if (a === 0) return '0 ms';
  return `${(ms * 1000).toPrecision(2)} µs`;
}

/** A value in a metric's unit, for tables: ms get formatMs, others a number and the unit. */
export function formatWithUnit(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (unit === 'ms') return formatMs(v);
  if (unit === '%') return `${formatNumber(v)} %`;
  return `${formatNumber(v)} ${unit}`;
}

const MINUS = '\u2212';

/** `+12%`, `−3.4%`. */
export function formatSignedPct(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '—';
  const a = Math.abs(pct);
  const txt = a >= 10 ? a.toFixed(0) : a.toFixed(1);
  if (Number(txt) === 0) return '0%';
  return `${pct < 0 ? MINUS : '+'}${txt}%`;
}

export const STATUS_TONE: Record<RunViewStatus, 'ok' | 'warn' | 'bad' | 'busy' | 'idle'> = {
  running: 'busy',
  complete: 'ok',
  partial: 'warn',
  failed: 'bad',
  damaged: 'bad',
};

export const STATUS_HELP: Record<RunViewStatus, string> = {
  running: 'Still running on its host, or finished there and not collected yet.',
  complete: 'Every planned request ran and the record was written whole.',
  partial: 'Cut short (cancelled, or the host stopped it): the figures cover the requests that finished.',
  failed: 'The run failed; its record says why.',
  damaged: 'The record on this computer cannot be read.',
};

/** Bytes as files are sized: `370 KB`, `1.2 MB` (decimal units, as browsers show file sizes). */
export function formatFileSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(0)} KB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
