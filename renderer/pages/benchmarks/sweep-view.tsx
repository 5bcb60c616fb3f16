import { useEffect, useMemo } from 'react';
import type { RunDetail, RunSummary } from '../../../common/run-view';
import { ParetoChart, SweepThroughputChart, type SweepPoint } from '../../charts/bench-sweep';
import { ReportExportMenu } from '../../components/report-export-menu';
import { useApp } from '../../store/app-store';
import { useSimulatedNotice } from '../deployments/simulated';
import { formatMs, formatNumber } from './bench-format';
import { RunOriginBadges, RunStatusChip } from './run-badges';

/** A sweep point from a run: its load (concurrency, else request rate) and throughput/latency figures. */
export function sweepPoint(r: RunSummary, detail: RunDetail | undefined): SweepPoint | null {
  const load = r.workload.requestRate ?? r.workload.concurrency ?? null;
  if (load === null) return null;
  const h = r.headline;
  const tpsUser = detail?.metrics?.distributions.tpsPerUser?.p50 ?? (h?.itlP50Ms ? 1000 / h.itlP50Ms : null);
  return {
    runId: r.id,
    load,
    outputTokensPerS: h?.outputTokensPerS ?? null,
    requestsPerS: h?.requestsPerS ?? null,
    tokensPerSPerUser: tpsUser ?? null,
    tokensPerSPerGpu: h?.outputTokensPerSPerGpu ?? null,
  };
}

export function SweepView({ group }: { group: string }) {
  const runs = useApp((s) => s.runs);
  const details = useApp((s) => s.runDetails);
  const loadRun = useApp((s) => s.loadRun);
  const connected = useApp((s) => s.connection.state === 'open');
  const navigate = useApp((s) => s.navigate);
  const members = useMemo(() => runs.filter((r) => r.group === group), [runs, group]);
  const rate = members.some((r) => r.workload.requestRate != null);
  const memberKey = members.map((r) => `${r.id}:${r.status}:${r.location}`).join(',');

  useEffect(() => {
    if (!connected) return;
    for (const r of members) if (r.location === 'local' && !details[r.id]) void loadRun(r.id);
  }, [memberKey, connected]);
  useSimulatedNotice(members.some((r) => r.simulated));

  const points = useMemo(() => members.map((r) => sweepPoint(r, details[r.id])).filter((p): p is SweepPoint => p !== null), [members, details]);
  const deployment = members[0]?.deployment;

  return (
    <div className="page" data-testid="page-sweep" data-group={group}>
      <div className="crumbs">
        <a
          href="#/benchmarks"
          onClick={(e) => {
            e.preventDefault();
            navigate({ page: 'benchmarks', view: 'list' });
          }}
        >
          Benchmarks
        </a>{' '}
        / sweep {group}
      </div>
      <header className="page-head">
        <h1>Sweep {deployment ? `of ${deployment.name}` : group}</h1>
        {members[0] ? <RunOriginBadges run={members[0]} testPrefix="sweep" /> : null}
        <span className="spacer" />
        {members.length ? <ReportExportMenu target={{ sweepId: group }} testId="sweep-export" /> : null}
      </header>
      {members.length === 0 ? (
        <div className="callout" data-testid="sweep-empty">
          No runs belong to sweep {group}. It may have been deleted.
        </div>
      ) : (
        <>
          <div className="bench-chart-grid">
            <SweepThroughputChart points={points} loadLabel={rate ? 'requests/s' : 'concurrency'} />
            <ParetoChart points={points} loadLabel={rate ? 'requests/s' : 'concurrency'} />
          </div>
          <section className="card card-flush">
            <table className="table table-hosts" data-testid="sweep-runs">
              <thead>
                <tr>
                  <th>{rate ? 'Requests/s' : 'Concurrency'}</th>
                  <th>Run</th>
                  <th>Status</th>
                  <th className="num">Output tok/s</th>
                  <th className="num">Tok/s/GPU</th>
                  <th className="num">Tok/s/user p50</th>
                  <th className="num">TTFT p50</th>
                  <th className="num">ITL p50</th>
                </tr>
              </thead>
              <tbody>
                {members
                  .slice()
                  .sort((a, b) => (a.workload.requestRate ?? a.workload.concurrency ?? 0) - (b.workload.requestRate ?? b.workload.concurrency ?? 0))
                  .map((r) => {
                    const p = points.find((x) => x.runId === r.id);
                    return (
                      <tr key={r.id} className="row-link" onClick={() => navigate({ page: 'benchmarks', view: 'run', id: r.id })} data-testid={`sweep-run-${r.id}`}>
                        <td className="mono">{r.workload.requestRate ?? r.workload.concurrency ?? '—'}</td>
                        <td className="mono small">{r.id}</td>
                        <td>
                          <RunStatusChip status={r.status} title={r.problem} />
                        </td>
                        <td className="num mono">{formatNumber(p?.outputTokensPerS)}</td>
                        <td className="num mono">{formatNumber(p?.tokensPerSPerGpu)}</td>
                        <td className="num mono">{formatNumber(p?.tokensPerSPerUser)}</td>
                        <td className="num mono">{formatMs(r.headline?.ttftP50Ms)}</td>
                        <td className="num mono">{formatMs(r.headline?.itlP50Ms)}</td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
          </section>
        </>
      )}
    </div>
  );
}
