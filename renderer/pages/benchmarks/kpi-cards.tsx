import { metricInfo, metricKeyForTag, type MetricKey } from '../../../common/metrics/metric-keys';
import type { RunDetail } from '../../../common/run-view';
import { formatMs, formatNumber } from './bench-format';

/** `TTFT ≤ 200 ms`: an SLO as run.json keeps it (Handoff's key, or a tool's tag). */
function sloText(name: string, value: number): string {
  const key = ((metricInfo(name as MetricKey) as ReturnType<typeof metricInfo> | undefined) ? name : metricKeyForTag(name)) as MetricKey | undefined;
  const info = key ? (metricInfo(key) as ReturnType<typeof metricInfo> | undefined) : undefined;
  if (!info) return `${name} ${value}`;
  return `${info.label} ${info.better === 'higher' ? '≥' : '≤'} ${value} ${info.unit}`;
}

export interface Kpi {
  id: string;
  label: string;
  /** The figure exactly as runs.get gives it; the card shows it formatted. */
  value: number | null;
  text: string;
  unit: string;
  sub?: string;
}

/**
 * The headline figures of a run, straight from runs.get: nothing is recomputed here, so what the
 * cards say is what the CLI and the compare verdict use.
 */
export function kpisOf(detail: RunDetail): Kpi[] {
  const m = detail.metrics;
  const s = m?.scalars ?? {};
  const d = m?.distributions ?? {};
  const num = (v: number | undefined | null): number | null => (v === undefined || v === null || !Number.isFinite(v) ? null : v);
  const gpus = detail.summary.deployment?.gpuCount ?? null;
  const tok = num(s.outputTokenThroughputPerS);
  const perGpu = num(detail.summary.headline?.outputTokensPerSPerGpu) ?? (tok !== null && gpus ? tok / gpus : null);
  const streaming = detail.run?.workload.streaming ?? d.ttftMs !== undefined;
  const ms = (id: string, label: string, v: number | null, sub?: string): Kpi => ({ id, label, value: v, text: formatMs(v), unit: '', ...(sub ? { sub } : {}) });
  const out: Kpi[] = [
    { id: 'output-tokens-per-s', label: 'Output tokens/s', value: tok, text: formatNumber(tok), unit: 'tokens/s' },
    {
      id: 'output-tokens-per-s-per-gpu',
      label: 'Output tokens/s per GPU',
      value: perGpu,
      text: formatNumber(perGpu),
      unit: 'tokens/s/GPU',
      sub: perGpu === null ? 'GPU count unknown' : `${gpus ?? '?'} GPU${gpus === 1 ? '' : 's'}`,
    },
    { id: 'requests-per-s', label: 'Request throughput', value: num(s.requestThroughputPerS), text: formatNumber(num(s.requestThroughputPerS)), unit: 'requests/s' },
  ];
  if (streaming) {
    out.push(ms('ttft-p50', 'TTFT p50', num(d.ttftMs?.p50)), ms('ttft-p99', 'TTFT p99', num(d.ttftMs?.p99)), ms('itl-p50', 'ITL p50', num(d.itlMs?.p50)), ms('itl-p99', 'ITL p99', num(d.itlMs?.p99)));
  }
  out.push(ms('latency-p50', 'Request latency p50', num(d.requestLatencyMs?.p50)), ms('latency-p99', 'Request latency p99', num(d.requestLatencyMs?.p99)));
  const slos = detail.run?.workload.goodput;
  if (slos && Object.keys(slos).length) {
    const g = num(s.goodputPerS);
    out.push({
      id: 'goodput',
      label: 'Goodput',
      value: g,
      text: formatNumber(g),
      unit: 'requests/s',
      sub: `${formatNumber(num(s.goodRequestCount))} good of ${formatNumber(num(s.requestCount))} · SLOs ${Object.entries(slos)
        .map(([k, v]) => sloText(k, v))
        .join(', ')}`,
    });
  }
  const errors = num(s.errorCount) ?? detail.summary.headline?.errorCount ?? null;
  out.push({ id: 'requests', label: 'Requests', value: num(s.requestCount), text: formatNumber(num(s.requestCount)), unit: '', sub: errors ? `${errors} failed` : 'none failed' });
  return out;
}

export function KpiCards({ detail }: { detail: RunDetail }) {
  const kpis = kpisOf(detail);
  return (
    <section className="kpi-grid" data-testid="kpi-cards">
      {kpis.map((k) => (
        <div key={k.id} className="kpi" data-testid={`kpi-${k.id}`} data-value={k.value ?? ''}>
          <div className="kpi-label">{k.label}</div>
          <div className="kpi-value">
            <span data-testid={`kpi-${k.id}-text`}>{k.text}</span> {k.unit ? <span className="kpi-unit">{k.unit}</span> : null}
          </div>
          {k.sub ? <div className="kpi-sub muted">{k.sub}</div> : null}
        </div>
      ))}
    </section>
  );
}
