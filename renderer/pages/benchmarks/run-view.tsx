import { useEffect, useMemo, useState } from 'react';
import { describeWorkload } from '../../../common/compare';
import { decodeRequestColumns, type PackedRunSeries } from '../../../common/run-series';
import type { RunDetail } from '../../../common/run-view';
import { isTaskFinished } from '../../../common/task';
import { CdfChart, HistogramChart } from '../../charts/bench-distribution';
import { sortedValues } from '../../charts/bench-downsample';
import { benchColor } from '../../charts/bench-chart-frame';
import { RunKvTransferCharts } from '../../charts/bench-kv-fabric';
import { KvTelemetryCharts } from '../../charts/kv-telemetry';
import { PercentileChart, type PercentileLine } from '../../charts/bench-percentiles';
import { RequestScatter } from '../../charts/bench-scatter';
import { RunSeriesChart } from '../../charts/bench-time-series';
import { RunWaterfallSection } from '../../charts/waterfall-section';
import { ErrorCallout } from '../../components/error-callout';
import { TaskProgress } from '../../components/task-progress';
import { ReportExportMenu } from '../../components/report-export-menu';
import { formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { useSimulatedNotice } from '../deployments/simulated';
import { DisagreementsTable } from './disagreements-table';
import { KpiCards } from './kpi-cards';
import { RunOriginBadges, RunStatusChip } from './run-badges';

type DistMetric = 'ttft' | 'itl' | 'latency';
/** `slo`: the SLO's names in run.json (Handoff's metric key, or the tools' tag in some imports). */
const DIST: Record<DistMetric, { label: string; column: 'ttftMs' | 'itlMs' | 'latencyMs'; slo: [string, string]; color: number }> = {
  ttft: { label: 'TTFT', column: 'ttftMs', slo: ['ttftMs', 'time_to_first_token'], color: 0 },
  itl: { label: 'ITL', column: 'itlMs', slo: ['itlMs', 'inter_token_latency'], color: 1 },
  latency: { label: 'Request latency', column: 'latencyMs', slo: ['requestLatencyMs', 'request_latency'], color: 2 },
};

function Crumbs({ label }: { label: string }) {
  const navigate = useApp((s) => s.navigate);
  return (
    <div className="crumbs">
      <a
        href="#/benchmarks"
        onClick={(e) => {
          e.preventDefault();
          navigate({ page: 'benchmarks', view: 'list' });
        }}
        data-testid="crumb-benchmarks"
      >
        Benchmarks
      </a>{' '}
      / {label}
    </div>
  );
}

function Facts({ detail }: { detail: RunDetail }) {
  const s = detail.summary;
  const run = detail.run;
  const navigate = useApp((st) => st.navigate);
  const facts: Array<[string, React.ReactNode]> = [
    ['Tool', `${s.tool}${run?.tool.version ? ` ${run.tool.version}` : ''}`],
    ['Deployment', s.deployment ? `${s.deployment.name} · ${s.deployment.mode} · ${s.deployment.engine} · ${s.deployment.gpuCount} GPU${s.deployment.gpuCount === 1 ? '' : 's'}` : s.imported ? 'not recorded (imported)' : '—'],
    ['Workload', describeWorkload(s.workload, detail.metrics ?? undefined)],
    ['Created', `${formatAgo(s.createdAt)}`],
    ['Host', s.host ?? '—'],
  ];
  if (s.group) {
    facts.push([
      'Sweep',
      <a
        key="sweep"
        href={`#/benchmarks/sweep/${encodeURIComponent(s.group)}`}
        onClick={(e) => {
          e.preventDefault();
          navigate({ page: 'benchmarks', view: 'sweep', group: s.group! });
        }}
        data-testid="run-sweep-link"
      >
        {s.group}
      </a>,
    ]);
  }
  if (detail.metricsSource) facts.push(['Figures', { records: 'recomputed from the per-request records', summary: 'computed from the per-request records', reported: 'as the tool reported them (no per-request records)' }[detail.metricsSource]]);
  return (
    <dl className="facts" data-testid="run-facts">
      {facts.map(([k, v]) => (
        <div className="fact" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Segmented<T extends string>({ value, options, onChange, testId }: { value: T; options: ReadonlyArray<[T, string]>; onChange: (v: T) => void; testId: string }) {
  return (
    <span className="segmented" role="group" data-testid={testId}>
      {options.map(([v, label]) => (
        <button key={v} type="button" className={`segmented-item${v === value ? ' segmented-active' : ''}`} aria-pressed={v === value} onClick={() => onChange(v)} data-testid={`${testId}-${v}`}>
          {label}
        </button>
      ))}
    </span>
  );
}

/** The charts of one run: percentiles, distributions, per-request scatter, sampled series, KV transfer. */
export function RunCharts({ detail, series }: { detail: RunDetail; series: PackedRunSeries }) {
  const [metric, setMetric] = useState<DistMetric>(series.streaming ? 'ttft' : 'latency');
  const req = useMemo(() => (series.requests ? decodeRequestColumns(series.requests) : null), [series.requests]);
  const dist = DIST[metric];
  const sorted = useMemo(() => sortedValues(req ? req[dist.column] : new Float32Array(0)), [req, dist.column]);
  const goodput = detail.run?.workload.goodput;
  const slo = goodput?.[dist.slo[0]] ?? goodput?.[dist.slo[1]];
  const markers = useMemo(() => (slo !== undefined ? [{ x: slo, label: `SLO ${slo} ms` }] : []), [slo]);
  const d = detail.metrics?.distributions;
  const percentileLines = useMemo<PercentileLine[]>(
    () => [
      { key: 'ttft', label: 'TTFT', stats: d?.ttftMs },
      { key: 'itl', label: 'ITL', stats: d?.itlMs },
    ],
    [d],
  );
  const metricOptions = useMemo<ReadonlyArray<[DistMetric, string]>>(
    () => (series.streaming ? [['ttft', 'TTFT'], ['itl', 'ITL'], ['latency', 'Request latency']] : [['latency', 'Request latency']]),
    [series.streaming],
  );
  return (
    <>
      <section className="card" data-testid="run-charts-latency">
        <h2 className="card-title">
          Latency
          <span className="spacer" />
          <Segmented value={metric} options={metricOptions} onChange={setMetric} testId="dist-metric" />
        </h2>
        {!req ? (
          <p className="muted small" data-testid="run-no-records">
            This run has no per-request records (the tool's summary only): distributions and the scatter need them. Percentiles come from the tool's summary.
          </p>
        ) : null}
        <div className="bench-chart-grid">
          <PercentileChart lines={percentileLines} />
          {req ? (
            <>
              <HistogramChart metric={metric} label={dist.label} unit="ms" sorted={sorted} color={benchColor(dist.color)} markers={markers} />
              <CdfChart metric={metric} label={dist.label} unit="ms" sorted={sorted} color={benchColor(dist.color)} markers={markers} />
              {series.streaming ? (
                <RequestScatter
                  id="scatter-ttft-isl"
                  title="TTFT vs input length"
                  help="One dot per request: prefill time grows with the prompt; queueing shows as dots high above the rest."
                  xs={req.isl}
                  ys={req.ttftMs}
                  xLabel="input tokens"
                  yLabel="TTFT ms"
                />
              ) : (
                <RequestScatter id="scatter-latency-isl" title="Latency vs input length" help="One dot per request." xs={req.isl} ys={req.latencyMs} xLabel="input tokens" yLabel="latency ms" />
              )}
            </>
          ) : null}
        </div>
      </section>
      <section className="card" data-testid="run-charts-samples">
        <h2 className="card-title">During the run</h2>
        {series.timeSeries.length ? (
          <div className="bench-chart-grid">
            {series.timeSeries.map((ts) => (
              <RunSeriesChart key={ts.id} series={ts} />
            ))}
          </div>
        ) : (
          <p className="muted small" data-testid="run-no-samples">
            {detail.summary.imported ? 'Imported runs carry no samples of the deployment.' : 'No /metrics or GPU samples were recorded for this run.'}
          </p>
        )}
      </section>
      {series.kvTransfer.length || detail.summary.deployment?.mode === 'disaggregated' ? (
        <section className="card" data-testid="run-charts-kv">
          <h2 className="card-title">KV-cache handoff</h2>
          <div className="bench-chart-grid">
            <RunKvTransferCharts run={detail.run} series={series} />
            {series.nixlTransfers ? <KvTelemetryCharts transfers={series.nixlTransfers} aggregate={series.kvTransfer} /> : null}
          </div>
        </section>
      ) : null}
    </>
  );
}

function ImportSection({ detail }: { detail: RunDetail }) {
  const imp = detail.import;
  if (!imp) return null;
  return (
    <section className="card" data-testid="run-import">
      <h2 className="card-title">Imported from {imp.tool}{imp.toolVersion ? ` ${imp.toolVersion}` : ''}</h2>
      <p className="small">
        {imp.sources.join(', ')} ({imp.kinds.join(', ')}; schema {imp.schemas.join(', ')}).{' '}
        {imp.recordCount ? `${imp.recordCount.toLocaleString('en-US')} per-request records.` : 'Summary only: no per-request records.'}
      </p>
      {imp.comparedCount ? (
        imp.disagreements.length ? (
          <>
            <p className="small" data-testid="run-disagreements-count" data-count={imp.disagreements.length}>
              {imp.disagreements.length} of {imp.comparedCount} figures the tool reported differ from those recomputed from its records. The charts and cards use the recomputed
              figures.
            </p>
            <DisagreementsTable rows={imp.disagreements} testId="run-disagreements" />
          </>
        ) : (
          <p className="small" data-testid="run-disagreements-none">
            All {imp.comparedCount} figures the tool reported agree with those recomputed from its records.
          </p>
        )
      ) : null}
      {imp.ignored.length ? <p className="small muted">Not imported: {imp.ignored.map((i) => `${i.name} (${i.reason})`).join('; ')}</p> : null}
      {imp.notes.map((n) => (
        <p key={n} className="small muted">
          {n}
        </p>
      ))}
    </section>
  );
}

function DeleteRun({ id }: { id: string }) {
  const deleteRun = useApp((s) => s.deleteRun);
  const navigate = useApp((s) => s.navigate);
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!confirm) {
    return (
      <button type="button" className="btn btn-danger-outline" onClick={() => setConfirm(true)} data-testid="run-delete">
        Delete
      </button>
    );
  }
  return (
    <span className="inline-confirm">
      {error ? <span className="field-error">{error}</span> : <span className="small">Delete this run and its files?</span>}
      <button
        type="button"
        className="btn btn-danger btn-small"
        data-testid="run-delete-confirm"
        onClick={() =>
          void deleteRun(id).then((r) => {
            if (r.ok) navigate({ page: 'benchmarks', view: 'list' });
            else setError(r.error.message);
          })
        }
      >
        Delete
      </button>
      <button type="button" className="btn btn-small" onClick={() => setConfirm(false)}>
        Keep
      </button>
    </span>
  );
}

export function RunView({ id }: { id: string }) {
  const detail = useApp((s) => s.runDetails[id]);
  const detailError = useApp((s) => s.runDetailErrors[id]);
  const series = useApp((s) => s.runSeries[id]);
  const seriesError = useApp((s) => s.runSeriesErrors[id]);
  const loadRun = useApp((s) => s.loadRun);
  const loadRunSeries = useApp((s) => s.loadRunSeries);
  const connected = useApp((s) => s.connection.state === 'open');
  const summary = useApp((s) => s.runs.find((r) => r.id === id));
  const task = useApp((s) => (detail?.summary.taskId ? s.tasks[detail.summary.taskId] : undefined));
  const runs = useApp((s) => s.runs);
  const navigate = useApp((s) => s.navigate);
  const [compareWith, setCompareWith] = useState('');
  // The list usually knows already that the run is stored here: ask for its chart data at once.
  const local = (detail?.summary.location ?? summary?.location) === 'local';
  const listStatus = summary ? `${summary.status}/${summary.location}` : null;

  useEffect(() => {
    if (!connected) return;
    void loadRun(id);
  }, [id, connected, loadRun, listStatus]);
  useEffect(() => {
    if (connected && local && !series) void loadRunSeries(id);
  }, [id, connected, local, series, loadRunSeries]);
  useEffect(() => {
    if (detail && series) performance.mark(`run-view-ready:${id}`);
  }, [detail, series, id]);
  useSimulatedNotice(!!detail?.summary.simulated);

  const title = detail?.summary.name ?? summary?.name ?? id;
  if (!detail) {
    return (
      <div className="page" data-testid="page-run">
        <Crumbs label={id} />
        {detailError ? <ErrorCallout error={detailError} title="Could not open the run" testId="run-error" /> : <p className="muted">Loading…</p>}
      </div>
    );
  }
  const s = detail.summary;
  const others = runs.filter((r) => r.id !== id && r.location === 'local');
  return (
    <div className="page" data-testid="page-run" data-run-id={s.id}>
      <Crumbs label={s.id} />
      <header className="page-head">
        <h1 data-testid="run-title">{title}</h1>
        <RunStatusChip status={s.status} testId="run-status" title={s.problem} />
        <RunOriginBadges run={s} testPrefix="run-view" />
        <span className="spacer" />
        {local && others.length ? (
          <span className="inline-field">
            <select className="select" value={compareWith} onChange={(e) => setCompareWith(e.target.value)} data-testid="run-compare-with">
              <option value="">Compare with…</option>
              {others.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name ?? r.id} ({r.id})
                </option>
              ))}
            </select>
            <button type="button" className="btn" disabled={!compareWith} onClick={() => navigate({ page: 'benchmarks', view: 'compare', a: compareWith, b: s.id })} data-testid="run-compare-go">
              Compare
            </button>
          </span>
        ) : null}
        {local ? <ReportExportMenu target={{ runIds: [s.id] }} testId="run-export" /> : null}
        {local ? <DeleteRun id={s.id} /> : null}
      </header>
      {s.problem ? <div className="callout callout-warn" data-testid="run-problem">{s.problem}</div> : null}
      <section className="card">
        <Facts detail={detail} />
      </section>
      {s.location === 'host' ? (
        <section className="card" data-testid="run-pending">
          <p>
            This run is {s.status === 'running' ? 'going on' : 'finished'} on {s.host ?? 'its host'} and has not been copied to this computer yet; its charts appear once it is collected.
          </p>
          {s.taskId && task && !isTaskFinished(task) ? <TaskProgress taskId={s.taskId} /> : null}
        </section>
      ) : null}
      {detail.metrics ? <KpiCards detail={detail} /> : local ? <div className="callout" data-testid="run-no-metrics">No figures: no request finished in this run.</div> : null}
      {local ? (
        seriesError ? (
          <ErrorCallout error={seriesError} title="Could not read the run's records for the charts" testId="run-series-error" />
        ) : series ? (
          <RunCharts detail={detail} series={series} />
        ) : (
          <p className="muted" data-testid="run-series-loading">
            Reading the per-request records…
          </p>
        )
      ) : null}
      {local && series?.requests ? <RunWaterfallSection runId={s.id} /> : null}
      <ImportSection detail={detail} />
      {detail.run?.notes.length ? (
        <section className="card" data-testid="run-notes">
          <h2 className="card-title">Notes</h2>
          {detail.run.notes.map((n, i) => (
            <p key={i} className="small">
              {n}
            </p>
          ))}
        </section>
      ) : null}
    </div>
  );
}
