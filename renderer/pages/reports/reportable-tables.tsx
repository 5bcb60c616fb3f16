import type { ReactNode } from 'react';
import { describeWorkload } from '../../../common/compare';
import type { RunSummary } from '../../../common/run-view';
import { ReportExportMenu } from '../../components/report-export-menu';
import { formatAgo } from '../../format';
import { formatRoute, type Route } from '../../routes';
import { useApp } from '../../store/app-store';
import { RunOriginBadges, RunStatusChip } from '../benchmarks/run-badges';
import type { SweepGroup } from '../benchmarks/run-list';
import { SIMULATED_TEXT } from '../deployments/simulated';
import { exportProblem, type EngineFilter, type ModeFilter, type RunFilter } from './reportable';

/** A link to another view that moves inside the app instead of reloading it. */
export function AppLink({ route, children }: { route: Route; children: ReactNode }) {
  const navigate = useApp((s) => s.navigate);
  return (
    <a
      href={formatRoute(route)}
      onClick={(e) => {
        e.preventDefault();
        navigate(route);
      }}
    >
      {children}
    </a>
  );
}

function deploymentText(r: RunSummary): string {
  if (r.deployment) return `${r.deployment.name} · ${r.deployment.mode}${r.deployment.gpuCount ? ` · ${r.deployment.gpuCount} GPU${r.deployment.gpuCount > 1 ? 's' : ''}` : ''}`;
  return r.imported ? `imported (${r.tool})` : '—';
}

export function FilterBar({ filter, onChange, shown, total }: { filter: RunFilter; onChange: (f: RunFilter) => void; shown: number; total: number }) {
  return (
    <div className="reports-filter" role="search">
      <input
        type="search"
        className="reports-search"
        placeholder="Search runs: name, id, deployment, model, tool, load…"
        value={filter.query}
        onChange={(e) => onChange({ ...filter, query: e.target.value })}
        aria-label="Search runs"
        data-testid="reports-search"
      />
      <label className="inline-field small">
        Engine
        <select className="select" value={filter.engine} onChange={(e) => onChange({ ...filter, engine: e.target.value as EngineFilter })} data-testid="reports-filter-engine">
          <option value="all">all</option>
          <option value="simulated">simulated (mocker)</option>
          <option value="real">real (vLLM)</option>
          <option value="imported">imported</option>
        </select>
      </label>
      <label className="inline-field small">
        Mode
        <select className="select" value={filter.mode} onChange={(e) => onChange({ ...filter, mode: e.target.value as ModeFilter })} data-testid="reports-filter-mode">
          <option value="all">all</option>
          <option value="aggregated">aggregated</option>
          <option value="disaggregated">disaggregated</option>
        </select>
      </label>
      <span className="muted small" data-testid="reports-count">
        {shown === total ? `${total} run${total === 1 ? '' : 's'}` : `${shown} of ${total} runs`}
      </span>
    </div>
  );
}

export function RunsTable({ runs, picked, onPick }: { runs: readonly RunSummary[]; picked: readonly string[]; onPick: (id: string) => void }) {
  return (
    <table className="table table-hosts reports-table" data-testid="reports-runs">
      <thead>
        <tr>
          <th />
          <th>Run</th>
          <th>Deployment</th>
          <th>Workload</th>
          <th>Status</th>
          <th>Created</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => {
          const problem = exportProblem(r);
          const slot = picked.indexOf(r.id);
          return (
            <tr key={r.id} data-testid={`reports-run-${r.id}`} data-picked={slot >= 0 ? 'true' : undefined}>
              <td>
                <input
                  type="checkbox"
                  checked={slot >= 0}
                  disabled={problem !== null && slot < 0}
                  onChange={() => onPick(r.id)}
                  aria-label={`Pick ${r.name ?? r.id} for a composed report`}
                  title={problem ?? 'Pick for a composed report'}
                  data-testid={`reports-pick-run-${r.id}`}
                />
              </td>
              <td>
                <AppLink route={{ page: 'benchmarks', view: 'run', id: r.id }}>{r.name ?? r.id}</AppLink>{' '}
                <RunOriginBadges run={r} testPrefix={`reports-run-${r.id}`} />
                <div className="muted small mono">{r.id}</div>
              </td>
              <td className="small">{deploymentText(r)}</td>
              <td className="small">{describeWorkload(r.workload)}</td>
              <td>
                <RunStatusChip status={r.status} title={r.problem} />
              </td>
              <td className="muted small">{formatAgo(r.createdAt)}</td>
              <td className="reports-export-cell">
                {problem ? (
                  <span className="muted small" data-testid={`reports-run-noexport-${r.id}`}>
                    {problem}
                  </span>
                ) : (
                  <ReportExportMenu target={{ runIds: [r.id] }} testId={`reports-run-export-${r.id}`} />
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function SweepsTable({ sweeps, picked, onPick }: { sweeps: readonly SweepGroup[]; picked: readonly string[]; onPick: (id: string) => void }) {
  return (
    <table className="table table-hosts reports-table" data-testid="reports-sweeps">
      <thead>
        <tr>
          <th />
          <th>Sweep</th>
          <th>Load points</th>
          <th className="num">Runs</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {sweeps.map((g) => {
          const simulated = g.runs.filter((r) => r.simulated).length;
          const pending = g.runs.some((r) => exportProblem(r) !== null);
          return (
            <tr key={g.id} data-testid={`reports-sweep-${g.id}`}>
              <td>
                <input type="checkbox" checked={picked.includes(g.id)} onChange={() => onPick(g.id)} aria-label={`Pick ${g.label} for a composed report`} data-testid={`reports-pick-sweep-${g.id}`} />
              </td>
              <td>
                <AppLink route={{ page: 'benchmarks', view: 'sweep', group: g.id }}>{g.label}</AppLink>{' '}
                {simulated ? (
                  <span className="badge badge-simulated" title={SIMULATED_TEXT} data-testid={`reports-sweep-${g.id}-simulated`}>
                    Simulated{simulated < g.runs.length ? ` (${simulated} of ${g.runs.length} runs)` : ''}
                  </span>
                ) : null}
                <div className="muted small mono">{g.id}</div>
              </td>
              <td className="small">{g.runs.map((r) => r.loadPoint ?? '?').join(', ')}</td>
              <td className="num mono">{g.runs.length}</td>
              <td className="reports-export-cell">
                {pending ? <div className="muted small">Some runs are still running or not collected yet: export the sweep once they are.</div> : null}
                <ReportExportMenu target={{ sweepId: g.id }} testId={`reports-sweep-export-${g.id}`} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
