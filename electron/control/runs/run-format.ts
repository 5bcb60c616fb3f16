import type { BenchRunStatus } from '../../../common/bench-rpc';

/** One line of live progress for task steps and the CLI: `profiling 12/40 · 1,234 tok/s · TTFT p50 120 ms`. */
export function progressDetail(s: Pick<BenchRunStatus, 'phase' | 'done' | 'total' | 'errors' | 'warmupDone' | 'live' | 'toolMessage'>, warmupTotal: number | null): string {
  const parts: string[] = [];
  switch (s.phase) {
    case 'preparing':
      parts.push('preparing prompts');
      break;
    case 'warmup':
      parts.push(`warmup ${s.warmupDone}${warmupTotal !== null ? `/${warmupTotal}` : ''}`);
      break;
    case 'profiling':
      parts.push(`${s.done}${s.total !== null ? `/${s.total}` : ''} requests`);
      break;
    case 'collecting':
      parts.push('writing the record');
      break;
    case 'done':
      parts.push(`${s.done} requests done`);
      break;
  }
  if (s.errors) parts.push(`${s.errors} failed`);
  const l = s.live;
  if (l && s.phase === 'profiling') {
    if (l.outputTokensPerS !== null) parts.push(`${Math.round(l.outputTokensPerS).toLocaleString('en-US')} tok/s`);
    if (l.ttftP50Ms !== null) parts.push(`TTFT p50 ${fmtMs(l.ttftP50Ms)}`);
    if (l.itlP50Ms !== null) parts.push(`ITL p50 ${fmtMs(l.itlP50Ms)}`);
  }
  if (s.toolMessage) parts.push(s.toolMessage.slice(0, 120));
  return parts.join(' · ');
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

/** Fraction of the run done, counting warmup as part of it. */
export function progressFraction(s: Pick<BenchRunStatus, 'phase' | 'done' | 'total' | 'warmupDone'>, warmupTotal: number | null): number | undefined {
  if (s.total === null) return undefined;
  const w = warmupTotal ?? 0;
  const all = s.total + w;
  if (all <= 0) return undefined;
  const done = Math.min(s.warmupDone, w) + (s.phase === 'warmup' || s.phase === 'preparing' ? 0 : s.done);
  return Math.max(0, Math.min(1, done / all));
}

const STAMP = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');

/** `run-20260126-125501-a3f9`: sortable, unique enough with the random tail, a valid host directory name. */
export function newId(prefix: 'run' | 'imp' | 'sweep', random: () => string): string {
  return `${prefix}-${STAMP()}-${random()}`;
}
