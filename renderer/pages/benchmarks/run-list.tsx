import { useEffect, useMemo, useState } from 'react';
import { describeWorkload } from '../../../common/compare';
import type { RunSummary } from '../../../common/run-view';
import { ErrorCallout } from '../../components/error-callout';
import { formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { useSimulatedNotice } from '../deployments/simulated';
import { formatMs, formatNumber } from './bench-format';
import { ImportPanel } from './import-panel';
import { RunOriginBadges, RunStatusChip } from './run-badges';

/** A sweep: runs sharing a group id, shown and compared as one. */
export interface SweepGroup {
  id: string;
  label: string;
  runs: RunSummary[];
}

export function sweepsOf(runs: readonly RunSummary[]): SweepGroup[] {
  const by = new Map<string, RunSummary[]>();
  for (const r of runs) {
    if (!r.group) continue;
    const list = by.get(r.group);
    if (list) list.push(r);
    else by.set(r.group, [r]);
  }
  return [...by.entries()].map(([id, list]) => ({ id, label: `${list[0]?.deployment?.name ?? list[0]?.name?.split(' · ')[0] ?? id} sweep`, runs: list }));
}

function deploymentText(r: RunSummary): string {
  if (r.deployment) return `${r.deployment.name} · ${r.deployment.mode}${r.deployment.gpuCount ? ` · ${r.deployment.gpuCount} GPU${r.deployment.gpuCount > 1 ? 's' : ''}` : ''}`;
  return r.imported ? 'imported' : '—';
}

function liveText(r: RunSummary): string | null {
  const p = r.progress;
  if (!p) return null;
  if (p.disconnected) return p.disconnected;
  const n = p.phase === 'warmup' ? `warmup ${p.warmupDone}` : `${p.done}${p.total !== null ? `/${p.total}` : ''}`;
  return `${p.phase} ${p.phase === 'warmup' ? n : `${n} requests`}`;
}

function Row({ r, selected, onToggle }: { r: RunSummary; selected: boolean; onToggle: () => void }) {
  const navigate = useApp((s) => s.navigate);
  const open = (): void => navigate({ page: 'benchmarks', view: 'run', id: r.id });
  const h = r.headline;
  return (
    <tr className="row-link" data-testid={`run-row-${r.id}`} data-status={r.status} onClick={open}>
      <td onClick={(e) => e.stopPropagation()}>
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Select ${r.name ?? r.id} to compare`} data-testid={`run-select-${r.id}`} />
      </td>
      <td>
        <a
          href={`#/benchmarks/run/${encodeURIComponent(r.id)}`}
          onClick={(e) => {
            e.preventDefault();
            e.stopPropagation();
            open();
          }}
          data-testid={`run-open-${r.id}`}
        >
          {r.name ?? r.id}
        </a>{' '}
        <RunOriginBadges run={r} testPrefix={`run-${r.id}`} />
        <div className="muted small mono">{r.id}</div>
      </td>
      <td>{deploymentText(r)}</td>
      <td className="mono">{r.tool}</td>
      <td className="small">{describeWorkload(r.workload)}</td>
      <td>
        <RunStatusChip status={r.status} testId={`run-status-${r.id}`} title={r.problem} />
        {liveText(r) ? <div className="muted small">{liveText(r)}</div> : null}
      </td>
      <td className="num mono">{h ? formatNumber(h.outputTokensPerS) : '—'}</td>
      <td className="num mono">{h ? formatMs(h.ttftP50Ms) : '—'}</td>
      <td className="muted">{formatAgo(r.createdAt)}</td>
    </tr>
  );
}

export function RunList() {
  const runs = useApp((s) => s.runs);
  const loaded = useApp((s) => s.runsLoaded);
  const error = useApp((s) => s.runsError);
  const loadRuns = useApp((s) => s.loadRuns);
  const connected = useApp((s) => s.connection.state === 'open');
  const navigate = useApp((s) => s.navigate);
  const [selected, setSelected] = useState<string[]>([]);

  useEffect(() => {
    if (connected) void loadRuns(true);
  }, [connected, loadRuns]);
  useSimulatedNotice(runs.some((r) => r.simulated && r.status === 'running'));

  const sweeps = useMemo(() => sweepsOf(runs), [runs]);
  const toggle = (id: string): void => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.slice(-1), id]));
  const runIds = new Set(runs.map((r) => r.id));
  const kinds = selected.map((id) => (runIds.has(id) ? 'run' : 'sweep'));
  const canCompare = selected.length === 2 && kinds[0] === kinds[1];

  return (
    <div className="page" data-testid="page-benchmarks">
      <header className="page-head">
        <h1>Benchmarks</h1>
        <span className="spacer" />
        <span className="muted small" data-testid="compare-hint">
          {selected.length === 2 && !canCompare ? 'Pick two runs or two sweeps.' : selected.length < 2 ? 'Tick two runs (or two sweeps) to compare them.' : ''}
        </span>
        <button
          type="button"
          className="btn"
          disabled={!canCompare}
          onClick={() => navigate({ page: 'benchmarks', view: 'compare', a: selected[0]!, b: selected[1]! })}
          data-testid="runs-compare"
        >
          Compare
        </button>
        <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'benchmarks', view: 'new' })} data-testid="runs-new">
          New benchmark
        </button>
      </header>
      <ImportPanel />
      {error ? <ErrorCallout error={error} title="Could not list runs" testId="runs-error" /> : null}
      {sweeps.length ? (
        <section className="card card-flush">
          <h2 className="card-pad">Sweeps</h2>
          <table className="table table-hosts" data-testid="sweeps-table">
            <thead>
              <tr>
                <th />
                <th>Sweep</th>
                <th>Load points</th>
                <th>Runs</th>
              </tr>
            </thead>
            <tbody>
              {sweeps.map((g) => (
                <tr key={g.id} className="row-link" data-testid={`sweep-row-${g.id}`} onClick={() => navigate({ page: 'benchmarks', view: 'sweep', group: g.id })}>
                  <td onClick={(e) => e.stopPropagation()}>
                    <input type="checkbox" checked={selected.includes(g.id)} onChange={() => toggle(g.id)} aria-label={`Select ${g.label} to compare`} data-testid={`sweep-select-${g.id}`} />
                  </td>
                  <td>
                    {g.label}
                    <div className="muted small mono">{g.id}</div>
                  </td>
                  <td className="small">{g.runs.map((r) => r.loadPoint ?? '?').join(', ')}</td>
                  <td className="num mono">{g.runs.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {runs.length ? (
        <section className="card card-flush">
          <table className="table table-hosts" data-testid="runs-table">
            <thead>
              <tr>
                <th />
                <th>Run</th>
                <th>Deployment</th>
                <th>Tool</th>
                <th>Workload</th>
                <th>Status</th>
                <th className="num">Output tok/s</th>
                <th className="num">TTFT p50</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <Row key={r.id} r={r} selected={selected.includes(r.id)} onToggle={() => toggle(r.id)} />
              ))}
            </tbody>
          </table>
        </section>
      ) : (
        <div className="card empty-state" data-testid="runs-empty">
          <p>
            <strong>{loaded ? 'No runs yet.' : 'Loading…'}</strong>
          </p>
          <p className="muted">
            Benchmark a deployment with the built-in load generator, GenAI-Perf or AIPerf (the seed preset is the seed's genai-perf command: ISL 3000, OSL 150, concurrency 10, 40
            requests), or import results you already have.
          </p>
        </div>
      )}
    </div>
  );
}
