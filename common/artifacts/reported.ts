import { isDistributionKey, metricInfo, metricKeyForTag, unitFactor, type MetricKey } from '../metrics/metric-keys';
import { STAT_KEYS, type ReportedMetrics, type ReportedStats, type StatKey } from './imported-run';

/**
 * Adds one metric as a tool reported it (`{unit, avg, p50, …}`) to `rep`, converting the unit to
 * ours; `key` overrides the tag lookup. Metrics we have no name for, or whose unit cannot be
 * converted, go to `other` unchanged. Null or non-numeric statistics are skipped (AIPerf writes
 * explicit nulls).
 */
export function addReported(rep: ReportedMetrics, tag: string, unit: string | null, stats: Record<string, unknown>, key?: MetricKey): void {
  const k = key ?? metricKeyForTag(tag);
  const values: ReportedStats = {};
  for (const s of STAT_KEYS) {
    const v = stats[s];
    if (typeof v === 'number' && Number.isFinite(v)) values[s] = v;
  }
  if (Object.keys(values).length === 0) return;
  const factor = k ? (unit === null ? 1 : unitFactor(unit, metricInfo(k).unit)) : null;
  if (!k || factor === null) {
    rep.other[tag] = { unit: unit ?? '', ...values };
    return;
  }
  const scaled: ReportedStats = {};
  for (const [s, v] of Object.entries(values) as [StatKey, number][]) scaled[s] = s === 'count' ? v : v * factor;
  if (isDistributionKey(k)) rep.distributions[k] = { ...rep.distributions[k], ...scaled };
  else if (scaled.avg !== undefined) rep.scalars[k] = scaled.avg;
}
