import { useEffect, useMemo, useState } from 'react';
import { ErrorCallout } from '../../components/error-callout';
import { useApp } from '../../store/app-store';
import type { AppState } from '../../store/app-store';
import { sweepsOf } from '../benchmarks/run-list';
import { ComposePanel, type Picks } from './compose-panel';
import { ExportHistory } from './export-history';
import { filterRuns, NO_FILTER, type RunFilter } from './reportable';
import { FilterBar, RunsTable, SweepsTable } from './reportable-tables';
import { ReportsEmpty } from './reports-empty';
import '../benchmarks/benchmarks.css';
import './reports.css';

/** Reports exported from any view end as a succeeded report-export task: the history then has a new entry. */
const finishedExports = (s: AppState): number => Object.values(s.tasks).filter((t) => t.kind === 'report-export' && t.state === 'succeeded').length;

const MAX_PICKS = 200;

/**
 * Everything that can be reported (runs, sweeps), each with its Export menu; a Compose panel for
 * comparisons made here; and the history of exports with their files.
 */
export function ReportsPage() {
  const runs = useApp((s) => s.runs);
  const loaded = useApp((s) => s.runsLoaded);
  const runsError = useApp((s) => s.runsError);
  const loadRuns = useApp((s) => s.loadRuns);
  const loadReportHistory = useApp((s) => s.loadReportHistory);
  const connected = useApp((s) => s.connection.state === 'open');
  const exportsDone = useApp(finishedExports);
  const [filter, setFilter] = useState<RunFilter>(NO_FILTER);
  const [picks, setPicks] = useState<Picks>({ runIds: [], sweepIds: [] });

  useEffect(() => {
    if (connected) void loadRuns(true);
  }, [connected, loadRuns]);
  useEffect(() => {
    if (connected) void loadReportHistory();
  }, [connected, exportsDone, loadReportHistory]);

  const shownRuns = useMemo(() => filterRuns(runs, filter), [runs, filter]);
  const sweeps = useMemo(() => {
    const shown = new Set(shownRuns.map((r) => r.id));
    return sweepsOf(runs).filter((g) => g.runs.some((r) => shown.has(r.id)));
  }, [runs, shownRuns]);
  // A run deleted elsewhere leaves the selection.
  const present = useMemo(() => new Set(runs.flatMap((r) => [r.id, ...(r.group ? [r.group] : [])])), [runs]);
  const livePicks: Picks = { runIds: picks.runIds.filter((id) => present.has(id)), sweepIds: picks.sweepIds.filter((id) => present.has(id)) };

  const toggle = (key: keyof Picks) => (id: string) =>
    setPicks((p) => ({ ...p, [key]: p[key].includes(id) ? p[key].filter((x) => x !== id) : [...p[key], id].slice(-MAX_PICKS) }));

  return (
    <div className="page" data-testid="page-reports">
      <header className="page-head">
        <h1>Reports</h1>
        <span className="spacer" />
        <button
          type="button"
          className="btn"
          onClick={() => {
            void loadRuns(true);
            void loadReportHistory();
          }}
          data-testid="reports-refresh"
        >
          Refresh
        </button>
      </header>
      <p className="muted reports-intro">
        Export a run, a sweep or a comparison as one self-contained HTML file (opens offline), a PDF, CSV tables, or a bundle that re-runs the same benchmark. Reports say so when the simulated engine
        produced the numbers, and secrets never appear in them.
      </p>
      {runsError ? <ErrorCallout error={runsError} title="Could not list runs" testId="reports-runs-error" /> : null}
      {!loaded ? <p className="muted">Loading runs…</p> : null}
      {loaded && runs.length === 0 && !runsError ? <ReportsEmpty /> : null}
      {runs.length ? (
        <>
          <ComposePanel runs={runs} sweeps={sweepsOf(runs)} picks={livePicks} onPicks={setPicks} />
          <section className="card card-flush">
            <FilterBar filter={filter} onChange={setFilter} shown={shownRuns.length} total={runs.length} />
            {sweeps.length ? (
              <>
                <h2 className="card-pad">Sweeps</h2>
                <SweepsTable sweeps={sweeps} picked={livePicks.sweepIds} onPick={toggle('sweepIds')} />
              </>
            ) : null}
            <h2 className="card-pad">Runs</h2>
            {shownRuns.length ? (
              <RunsTable runs={shownRuns} picked={livePicks.runIds} onPick={toggle('runIds')} />
            ) : (
              <p className="card-pad muted" data-testid="reports-no-match">
                No run matches the search and filters.{' '}
                <button type="button" className="btn btn-small" onClick={() => setFilter(NO_FILTER)} data-testid="reports-filter-clear">
                  Show all runs
                </button>
              </p>
            )}
          </section>
        </>
      ) : null}
      <ExportHistory runs={runs} />
    </div>
  );
}
