import { useEffect, useMemo, useState } from 'react';
import type { Comparison } from '../../../common/compare';
import type { RunSummary } from '../../../common/run-view';
import { ErrorCallout } from '../../components/error-callout';
import { ReportExportMenu } from '../../components/report-export-menu';
import type { ActionResult } from '../../store/action-result';
import { useApp } from '../../store/app-store';
import { RunOriginBadges } from '../benchmarks/run-badges';
import type { SweepGroup } from '../benchmarks/run-list';
import { SIMULATED_TEXT, useSimulatedNotice } from '../deployments/simulated';
import { composePlan, suggestPair } from './reportable';

export interface Picks {
  runIds: string[];
  sweepIds: string[];
}

interface Props {
  runs: readonly RunSummary[];
  sweeps: readonly SweepGroup[];
  picks: Picks;
  onPicks: (p: Picks) => void;
}

const parseGpu = (s: string): number | null => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : null);

/** The verdict runs.compare gives for the picked pair, so the user sees what the report will say. */
function usePreview(a: string | null, b: string | null, gpuCountA: number | undefined, gpuCountB: number | undefined): ActionResult<Comparison> | null {
  const compareRuns = useApp((s) => s.compareRuns);
  const [preview, setPreview] = useState<{ key: string; result: ActionResult<Comparison> } | null>(null);
  const key = a && b ? JSON.stringify([a, b, gpuCountA, gpuCountB]) : null;
  useEffect(() => {
    if (!key || !a || !b) return;
    let live = true;
    void compareRuns({ a, b, ...(gpuCountA ? { gpuCountA } : {}), ...(gpuCountB ? { gpuCountB } : {}) }).then((result) => {
      if (live) setPreview({ key, result });
    });
    return () => {
      live = false;
    };
  }, [key, a, b, gpuCountA, gpuCountB, compareRuns]);
  return preview && preview.key === key ? preview.result : null;
}

/**
 * Compose: pick two runs (aggregated against disaggregated, say) or two sweeps and export their
 * comparison with its verdict, or pick three or more runs for one report with a section each.
 */
export function ComposePanel({ runs, sweeps, picks, onPicks }: Props) {
  const [title, setTitle] = useState('');
  const [gpuA, setGpuA] = useState('');
  const [gpuB, setGpuB] = useState('');
  const plan = composePlan({ ...picks, runs, gpuCountA: parseGpu(gpuA), gpuCountB: parseGpu(gpuB) });
  const compare = plan.kind === 'compare' ? plan : null;
  const preview = usePreview(compare?.a ?? null, compare?.b ?? null, compare?.target.gpuCountA, compare?.target.gpuCountB);
  const suggestion = useMemo(() => suggestPair(runs), [runs]);

  const pickedRuns = picks.runIds.map((id) => runs.find((r) => r.id === id)).filter((r): r is RunSummary => !!r);
  const pickedSweeps = picks.sweepIds.map((id) => sweeps.find((g) => g.id === id)).filter((g): g is SweepGroup => !!g);
  const involved = [...pickedRuns, ...pickedSweeps.flatMap((g) => g.runs)];
  const simulated = involved.filter((r) => r.simulated).length;
  const mixed = simulated > 0 && simulated < involved.length;
  useSimulatedNotice(simulated > 0);

  const slotLabel = (i: number): string => (compare ? (i === 0 ? 'A · baseline' : 'B') : `${i + 1}`);
  const remove = (id: string): void => onPicks({ runIds: picks.runIds.filter((x) => x !== id), sweepIds: picks.sweepIds.filter((x) => x !== id) });
  const swap = (): void => onPicks({ runIds: [...picks.runIds].reverse(), sweepIds: [...picks.sweepIds].reverse() });

  return (
    <section className="card compose" data-testid="compose">
      <div className="compose-head">
        <h2>Compose a report</h2>
        <span className="spacer" />
        {picks.runIds.length + picks.sweepIds.length === 0 && suggestion ? (
          <button type="button" className="btn btn-small" onClick={() => onPicks({ runIds: [suggestion[0].id, suggestion[1].id], sweepIds: [] })} data-testid="compose-suggest">
            Pick the latest aggregated vs disaggregated pair ({suggestion[0].loadPoint ?? 'same load'})
          </button>
        ) : null}
        {compare ? (
          <button type="button" className="btn btn-small" onClick={swap} title="A is the baseline; B is measured against it." data-testid="compose-swap">
            Swap A and B
          </button>
        ) : null}
        {picks.runIds.length + picks.sweepIds.length ? (
          <button type="button" className="btn btn-small" onClick={() => onPicks({ runIds: [], sweepIds: [] })} data-testid="compose-clear">
            Clear
          </button>
        ) : null}
      </div>
      <p className="muted small">
        Tick runs or sweeps in the lists below. Two runs, or two sweeps, make a comparison with a verdict (A is the baseline, B is measured against it); three or more runs make one report with a
        section per run.
      </p>
      {pickedRuns.length || pickedSweeps.length ? (
        <ol className="compose-picks" data-testid="compose-picks">
          {[...pickedRuns.map((r) => ({ id: r.id, label: r.name ?? r.id, sub: r.deployment ? `${r.deployment.mode} · ${r.loadPoint ?? ''}` : r.tool, run: r })), ...pickedSweeps.map((g) => ({ id: g.id, label: g.label, sub: `${g.runs.length} runs`, run: null }))].map((p, i) => (
            <li key={p.id} className="compose-pick" data-testid={`compose-pick-${p.id}`}>
              <span className="compose-slot">{slotLabel(i)}</span>
              <span>{p.label}</span>
              <span className="muted small">{p.sub}</span>
              {p.run ? <RunOriginBadges run={p.run} testPrefix={`compose-${p.id}`} /> : null}
              <button type="button" className="btn btn-small" onClick={() => remove(p.id)} aria-label={`Remove ${p.label}`}>
                ×
              </button>
            </li>
          ))}
        </ol>
      ) : null}
      {plan.kind === 'none' ? (
        <p className="small" data-testid="compose-hint">
          {plan.reason}
        </p>
      ) : null}
      {compare && (compare.needsGpuA || compare.needsGpuB) ? (
        <div className="compose-gpus small">
          Output tokens/s per GPU needs each side's GPU count; imported runs do not know theirs.
          {compare.needsGpuA ? (
            <label className="inline-field">
              GPUs of A <input className="compose-gpu" inputMode="numeric" value={gpuA} onChange={(e) => setGpuA(e.target.value)} data-testid="compose-gpus-a" />
            </label>
          ) : null}
          {compare.needsGpuB ? (
            <label className="inline-field">
              GPUs of B <input className="compose-gpu" inputMode="numeric" value={gpuB} onChange={(e) => setGpuB(e.target.value)} data-testid="compose-gpus-b" />
            </label>
          ) : null}
        </div>
      ) : null}
      {compare && preview?.ok ? (
        <div className={`callout ${preview.value.workload.same ? 'callout-ok' : 'callout-warn'}`} data-testid="compose-verdict" data-outcome={preview.value.verdict.outcome}>
          <div className="callout-title">The report will say: {preview.value.verdict.sentence}</div>
          <div className="small">{preview.value.workload.same ? 'Same workload on both sides.' : `The workloads differ: ${preview.value.workload.summary}`}</div>
        </div>
      ) : null}
      {compare && preview && !preview.ok ? <ErrorCallout error={preview.error} title="These two cannot be compared" testId="compose-compare-error" hint="Pick two runs (or two sweeps) measured on the same workload." /> : null}
      {simulated ? (
        <div className="callout callout-warn" data-testid="compose-simulated">
          <div className="callout-title">
            {mixed ? `Simulated engine on one side: ${simulated} of ${involved.length} runs used the mocker` : 'Simulated engine: every picked run used the mocker'}
          </div>
          <div className="small">
            {SIMULATED_TEXT} The report carries the same banner{mixed ? '; a comparison of modelled against measured numbers says little about either.' : '.'}
          </div>
        </div>
      ) : null}
      {plan.kind !== 'none' ? (
        <div className="compose-actions">
          <label className="inline-field small">
            Title
            <input className="compose-title" value={title} placeholder="default: from the runs" maxLength={200} onChange={(e) => setTitle(e.target.value)} data-testid="compose-title" />
          </label>
          <ReportExportMenu target={{ ...plan.target, ...(title.trim() ? { title: title.trim() } : {}) }} testId="compose-export" />
        </div>
      ) : null}
    </section>
  );
}
