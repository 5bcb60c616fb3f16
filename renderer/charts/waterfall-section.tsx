import { useEffect, useState } from 'react';
import type { ErrorPayload } from '../../common/errors';
import type { RunWaterfall } from '../../common/waterfall';
import { ErrorCallout } from '../components/error-callout';
import { useApp } from '../store/app-store';
import { DisaggregationPanel, TtftBreakdownChart } from './waterfall-breakdown';
import { WaterfallPicker } from './waterfall-picker';
import { RequestWaterfallChart } from './waterfall-request';
import './waterfall-charts.css';

type Pick = 'slowest' | 'p90' | 'p50' | 'fastest';
const PICKS: ReadonlyArray<[Pick, string]> = [
  ['slowest', 'Slowest'],
  ['p90', 'p90'],
  ['p50', 'p50'],
  ['fastest', 'Fastest'],
];

/**
 * The run view's "where did TTFT go" card (docs/waterfall.md): the disaggregation panel, the stacked
 * TTFT breakdown, and one request's waterfall, picked by a button (slowest, p90, p50, fastest), a
 * click on the TTFT scatter, or its id.
 */
export function RunWaterfallSection({ runId }: { runId: string }) {
  const fetchRunWaterfall = useApp((s) => s.fetchRunWaterfall);
  const connected = useApp((s) => s.connection.state === 'open');
  const [data, setData] = useState<RunWaterfall | null>(null);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [requestId, setRequestId] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!connected) return;
    let live = true;
    void fetchRunWaterfall(runId, requestId).then((r) => {
      if (!live) return;
      if (r.ok) {
        setData(r.value);
        setError(null);
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [runId, requestId, connected, fetchRunWaterfall]);

  if (error) return <ErrorCallout error={error} title="Could not split TTFT into phases" testId="wf-error" />;
  if (!data) return <p className="muted" data-testid="wf-loading">Splitting TTFT into phases…</p>;
  const shown = data.request?.requestId ?? null;
  return (
    <section className="card" data-testid="run-waterfall" data-max-sum-error-ms={data.maxSumErrorMs ?? ''}>
      <h2 className="card-title">Where did TTFT go</h2>
      <DisaggregationPanel check={data.disaggregation} />
      <div className="wf-grid">
        <div>
          <h3 className="chart-title">TTFT by phase, over the run</h3>
          <TtftBreakdownChart breakdowns={data.breakdowns} />
        </div>
        <div>
          <h3 className="chart-title">One request</h3>
          <div className="wf-picks">
            {PICKS.map(([k, label]) => {
              const id = data.picks[k];
              return (
                <button key={k} type="button" className={`btn btn-small${id !== null && id === shown ? ' btn-primary' : ''}`} disabled={id === null} onClick={() => id && setRequestId(id)} data-testid={`wf-pick-${k}`}>
                  {label}
                </button>
              );
            })}
            <span className="muted small">or click a request (TTFT ms against send time; blue remote, purple local prefill):</span>
          </div>
          {data.points.length ? <WaterfallPicker points={data.points} selected={shown} onPick={setRequestId} /> : null}
        </div>
      </div>
      {data.request ? <RequestWaterfallChart waterfall={data.request} /> : <p className="muted small">No request to show.</p>}
      {data.notes.map((n) => (
        <p key={n} className="muted small" data-testid="wf-note">
          {n}
        </p>
      ))}
    </section>
  );
}
