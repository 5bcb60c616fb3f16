import { metricInfo, type MetricKey } from '../../../common/metrics/metric-keys';
import type { ImportDisagreement } from '../../../common/run-view';
import { formatPrecise, formatSignedPct } from './bench-format';

function metricLabel(metric: string): { label: string; unit: string } {
  // metricInfo answers undefined (typed as found) for a name outside the table.
  const info = metricInfo(metric as MetricKey) as ReturnType<typeof metricInfo> | undefined;
  return info ? { label: info.label, unit: info.unit } : { label: metric, unit: '' };
}

/** Where a tool's own summary and Handoff's recomputation from its per-request records differ. */
export function DisagreementsTable({ rows, testId }: { rows: readonly ImportDisagreement[]; testId: string }) {
  return (
    <div className="table-scroll">
      <table className="table table-compact" data-testid={testId}>
        <thead>
          <tr>
            <th>Metric</th>
            <th>Statistic</th>
            <th className="num">Tool reported</th>
            <th className="num">Recomputed</th>
            <th className="num">Difference</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => {
            const m = metricLabel(d.metric);
            return (
              <tr key={`${d.metric}-${d.stat}`} data-testid={`disagreement-${d.metric}-${d.stat}`}>
                <td>
                  {m.label} <span className="muted small">{m.unit}</span>
                </td>
                <td className="mono">{d.stat}</td>
                <td className="num mono">{formatPrecise(d.reported)}</td>
                <td className="num mono">{formatPrecise(d.recomputed)}</td>
                <td className="num mono">{d.relDiff === null ? '—' : formatSignedPct(d.relDiff * 100)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
