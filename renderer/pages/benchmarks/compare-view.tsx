import { useEffect, useMemo, useState } from 'react';
import type { Comparison, MetricDelta, RunComparison, Verdict, WorkloadCheck } from '../../../common/compare';
import type { ErrorPayload } from '../../../common/errors';
import { ErrorCallout } from '../../components/error-callout';
import { ReportExportMenu } from '../../components/report-export-menu';
import { useApp } from '../../store/app-store';
import { useSimulatedNotice } from '../deployments/simulated';
import { formatSignedPct, formatWithUnit } from './bench-format';
import { sweepsOf } from './run-list';

const OUTCOME_TONE: Record<Verdict['outcome'], string> = {
  better: 'ok',
  worse: 'bad',
  mixed: 'warn',
  'no-significant-difference': 'idle',
  'not-comparable': 'bad',
};

const CHANGE_TEXT: Record<MetricDelta['change'], string> = { better: 'better', worse: 'worse', same: 'within noise', 'n/a': '' };

function VerdictBanner({ verdict }: { verdict: Verdict }) {
  return (
    <section className={`verdict verdict-${OUTCOME_TONE[verdict.outcome]}`} data-testid="compare-verdict" data-outcome={verdict.outcome}>
      <div className="verdict-label">
        Verdict · {verdict.subject} vs {verdict.baseline}
      </div>
      <div className="verdict-sentence" data-testid="compare-verdict-sentence">
        {verdict.sentence}
      </div>
      <details className="verdict-reasons">
        <summary className="small">How it was decided</summary>
        <ul className="small">
          {verdict.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      </details>
    </section>
  );
}

function WorkloadSection({ check, aLabel, bLabel }: { check: WorkloadCheck; aLabel: string; bLabel: string }) {
  return (
    <section className={`callout ${check.same ? 'callout-ok' : 'callout-bad'}`} data-testid="compare-workload" data-same={check.same ? 'true' : 'false'}>
      <div className="callout-title">{check.same ? 'Same workload' : 'The workloads differ'}</div>
      <div className="small">{check.summary}</div>
      {check.differences.length ? (
        <table className="table table-compact" data-testid="compare-workload-differences">
          <thead>
            <tr>
              <th>Setting</th>
              <th>{aLabel} (A)</th>
              <th>{bLabel} (B)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {[...check.differences].sort((x, y) => Number(y.blocking) - Number(x.blocking)).map((d) => (
              <tr key={d.field} data-testid={`workload-diff-${d.field}`} data-blocking={d.blocking ? 'true' : 'false'}>
                <td>{d.label}</td>
                <td className="mono">{d.a === null ? 'not recorded' : String(d.a)}</td>
                <td className="mono">{d.b === null ? 'not recorded' : String(d.b)}</td>
                <td className={d.blocking ? 'delta-worse small' : 'muted small'}>{d.blocking ? 'not comparable' : 'differs, not blocking'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function MetricsTable({ rows, testId }: { rows: readonly MetricDelta[]; testId: string }) {
  return (
    <div className="table-scroll">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>Metric</th>
            <th className="num">A</th>
            <th className="num">B</th>
            <th className="num">B − A</th>
            <th className="num">Change</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => (
            <tr key={`${m.metric}-${m.stat}`} data-testid={`delta-${m.metric}-${m.stat}`} data-change={m.change} className={m.key ? 'delta-key' : undefined}>
              <td>
                {m.label}
                {m.stat !== 'value' && !m.label.endsWith(m.stat) ? <span className="muted"> {m.stat}</span> : null}
                {m.key ? (
                  <span className="key-mark" title="Part of the verdict">
                    {' '}
                    ★
                  </span>
                ) : null}
              </td>
              <td className="num mono">{formatWithUnit(m.a, m.unit)}</td>
              <td className="num mono">{formatWithUnit(m.b, m.unit)}</td>
              <td className="num mono">{formatWithUnit(m.delta, m.unit)}</td>
              <td className={`num mono delta-${m.change === 'n/a' ? 'same' : m.change}`} data-testid={`delta-${m.metric}-${m.stat}-pct`}>
                {formatSignedPct(m.pctChange)}
              </td>
              <td className={`small delta-${m.change === 'n/a' ? 'same' : m.change}`}>{CHANGE_TEXT[m.change]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunsComparison({ c }: { c: RunComparison }) {
  return (
    <section className="card" data-testid="compare-metrics">
      <h2 className="card-title">
        Per-metric change, B relative to A{c.loadPoint ? <span className="muted small">at {c.loadPoint}</span> : null}
      </h2>
      <p className="small muted">Green is better, red is worse; changes inside the noise band (5% for medians and throughput, 10% for tails) count as no difference.</p>
      <MetricsTable rows={c.metrics} testId="compare-metrics-table" />
    </section>
  );
}

function RefPicker({ label, value, onChange, testId }: { label: string; value: string; onChange: (v: string) => void; testId: string }) {
  const runs = useApp((s) => s.runs);
  const sweeps = useMemo(() => sweepsOf(runs), [runs]);
  const local = runs.filter((r) => r.location === 'local');
  return (
    <label className="field compare-pick">
      <span className="field-label">{label}</span>
      <select className="select" value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {!local.some((r) => r.id === value) && !sweeps.some((g) => g.id === value) ? <option value={value}>{value}</option> : null}
        <optgroup label="Runs">
          {local.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name ?? r.id} — {r.id}
            </option>
          ))}
        </optgroup>
        {sweeps.length ? (
          <optgroup label="Sweeps">
            {sweeps.map((g) => (
              <option key={g.id} value={g.id}>
                {g.label} — {g.id}
              </option>
            ))}
          </optgroup>
        ) : null}
      </select>
    </label>
  );
}

function GpuCount({ label, value, onChange, testId }: { label: string; value: string; onChange: (v: string) => void; testId: string }) {
  return (
    <label className="field" style={{ maxWidth: 180 }}>
      <span className="field-label">{label}</span>
      <input value={value} onChange={(e) => onChange(e.target.value)} placeholder="unknown" data-testid={testId} inputMode="numeric" />
    </label>
  );
}

export function CompareView({ a, b }: { a: string; b: string }) {
  const compareRuns = useApp((s) => s.compareRuns);
  const navigate = useApp((s) => s.navigate);
  const connected = useApp((s) => s.connection.state === 'open');
  const [result, setResult] = useState<Comparison | null>(null);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [gpusA, setGpusA] = useState('');
  const [gpusB, setGpusB] = useState('');
  const [asked, setAsked] = useState<{ a: string; b: string } | null>(null);
  const ga = /^\d+$/.test(gpusA) && Number(gpusA) > 0 ? Number(gpusA) : undefined;
  const gb = /^\d+$/.test(gpusB) && Number(gpusB) > 0 ? Number(gpusB) : undefined;

  useEffect(() => {
    if (!connected) return;
    let gone = false;
    setAsked({ a, b });
    void compareRuns({ a, b, ...(ga ? { gpuCountA: ga } : {}), ...(gb ? { gpuCountB: gb } : {}) }).then((r) => {
      if (gone) return;
      if (r.ok) {
        setResult(r.value);
        setError(null);
      } else {
        setResult(null);
        setError(r.error);
      }
    });
    return () => {
      gone = true;
    };
  }, [a, b, ga, gb, connected, compareRuns]);
  useSimulatedNotice(!!result?.verdict.simulated);

  const needGpus = result && (result.kind === 'runs' ? !result.a.gpuCount || !result.b.gpuCount : false);
  const aLabel = result ? result.a.label : a;
  const bLabel = result ? result.b.label : b;
  return (
    <div className="page" data-testid="page-compare">
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
        / compare
      </div>
      <header className="page-head">
        <h1>Compare</h1>
        <span className="spacer" />
        {a && b && a !== b ? <ReportExportMenu target={{ compare: [a, b], ...(ga ? { gpuCountA: ga } : {}), ...(gb ? { gpuCountB: gb } : {}) }} testId="compare-export" /> : null}
      </header>
      <section className="card compare-picks">
        <RefPicker label="A (baseline)" value={a} onChange={(v) => navigate({ page: 'benchmarks', view: 'compare', a: v, b })} testId="compare-a" />
        <button type="button" className="btn" onClick={() => navigate({ page: 'benchmarks', view: 'compare', a: b, b: a })} data-testid="compare-swap" title="Swap A and B">
          ⇄
        </button>
        <RefPicker label="B" value={b} onChange={(v) => navigate({ page: 'benchmarks', view: 'compare', a, b: v })} testId="compare-b" />
        {needGpus || ga || gb ? (
          <>
            <GpuCount label="GPUs of A" value={gpusA} onChange={setGpusA} testId="compare-gpus-a" />
            <GpuCount label="GPUs of B" value={gpusB} onChange={setGpusB} testId="compare-gpus-b" />
          </>
        ) : null}
      </section>
      {error ? <ErrorCallout error={error} title="Could not compare" testId="compare-error" /> : null}
      {!result && !error ? <p className="muted">{asked ? 'Comparing…' : ''}</p> : null}
      {result ? (
        <>
          <VerdictBanner verdict={result.verdict} />
          <WorkloadSection check={result.workload} aLabel={aLabel} bLabel={bLabel} />
          {result.notes.length ? (
            <section className="card" data-testid="compare-notes">
              {result.notes.map((n) => (
                <p key={n} className="small">
                  {n}
                </p>
              ))}
            </section>
          ) : null}
          {result.kind === 'runs' ? (
            <RunsComparison c={result} />
          ) : (
            <>
              {result.points.map((p, i) => (
                <section className="card" key={p.loadPoint ?? i} data-testid={`compare-point-${i}`}>
                  <h2 className="card-title">{p.loadPoint ?? `point ${i + 1}`}</h2>
                  <p className={`verdict-point verdict-point-${OUTCOME_TONE[p.verdict.outcome]}`} data-testid={`compare-point-${i}-verdict`}>
                    {p.verdict.sentence}
                  </p>
                  <MetricsTable rows={p.metrics.filter((m) => m.key)} testId={`compare-point-${i}-table`} />
                </section>
              ))}
              {result.unmatched.length ? (
                <p className="muted small" data-testid="compare-unmatched">
                  Only in one sweep: {result.unmatched.map((u) => `${u.loadPoint} (${u.side === 'a' ? 'A' : 'B'})`).join(', ')}
                </p>
              ) : null}
            </>
          )}
        </>
      ) : null}
    </div>
  );
}
