import { useEffect, useMemo, useState } from 'react';
import type { ErrorPayload } from '../../common/errors';
import { ErrorCallout } from '../components/error-callout';
import { useApp } from '../store/app-store';
import { chartsFor } from './chart-defs';
import { LiveChart } from './live-chart';
import './charts.css';

const WINDOWS = [
  { label: '1 min', ms: 60_000 },
  { label: '5 min', ms: 5 * 60_000 },
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 h', ms: 60 * 60_000 },
] as const;

export interface DeploymentChartsProps {
  id: string;
  processes: ReadonlyArray<{ name: string; role: string }>;
  mode: 'aggregated' | 'disaggregated';
  /** Only a running deployment is watched; a stopped one keeps what was drawn. */
  live: boolean;
}

/**
 * The live charts of a deployment: watches it while shown (deployments.watch), and draws the
 * samples the store keeps in ring buffers, redrawn at most every LIVE_REDRAW_MS.
 */
export function DeploymentCharts({ id, processes, mode, live }: DeploymentChartsProps) {
  const watch = useApp((s) => s.watchDeployment);
  const connected = useApp((s) => s.connection.state === 'open');
  const version = useApp((s) => s.chartsVersion);
  const book = useApp((s) => s.live.series);
  const [windowMs, setWindowMs] = useState<number>(WINDOWS[1].ms);
  const [error, setError] = useState<ErrorPayload | null>(null);

  useEffect(() => {
    if (!live || !connected) return;
    let stop: (() => void) | null = null;
    let gone = false;
    void watch(id).then((r) => {
      if (!r.ok) {
        if (!gone) setError(r.error);
        return;
      }
      setError(null);
      // Unmounted (or reconnected) before the watch started: stop it at once.
      if (gone) r.value();
      else stop = r.value;
    });
    return () => {
      gone = true;
      stop?.();
    };
  }, [id, live, connected, watch]);

  const processKey = processes.map((p) => `${p.name}/${p.role}`).join(',');
  // Keyed by names and roles: each status poll brings a new array with the same processes, and
  // new defs would make every chart recompute (recharts guide: keep references stable).
  const defs = useMemo(() => chartsFor(processes, mode), [processKey, mode]);
  const series = book.get(id);
  const errors = series ? Object.entries(series.errors) : [];
  return (
    <section className="card" data-testid="deployment-charts">
      <h2 className="card-title">
        Live metrics
        <span className="muted small" data-testid="charts-samples" data-samples={series?.samples ?? 0}>
          {series?.samples ? `${series.samples} samples` : live ? 'waiting for samples' : 'not running'}
        </span>
        <span className="spacer" />
        <span className="segmented" role="group" aria-label="Time window">
          {WINDOWS.map((w) => (
            <button
              key={w.ms}
              type="button"
              className={`segmented-item${w.ms === windowMs ? ' segmented-active' : ''}`}
              aria-pressed={w.ms === windowMs}
              onClick={() => setWindowMs(w.ms)}
              data-testid={`charts-window-${w.label.replace(/\s+/g, '')}`}
            >
              {w.label}
            </button>
          ))}
        </span>
      </h2>
      {error ? <ErrorCallout error={error} title="Live metrics are not available" testId="charts-error" /> : null}
      {errors.length ? (
        <p className="muted small" data-testid="charts-scrape-errors">
          Could not read /metrics of {errors.map(([p, e]) => `${p} (${e})`).join('; ')}.
        </p>
      ) : null}
      <div className="chart-grid">
        {defs.map((def) => (
          <LiveChart key={def.id} def={def} series={series} windowMs={windowMs} version={version} />
        ))}
      </div>
    </section>
  );
}
