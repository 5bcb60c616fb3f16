import { useRef, useState, type DragEvent } from 'react';
import type { ErrorPayload } from '../../../common/errors';
import type { ImportReport, RunSummary } from '../../../common/run-view';
import { ErrorCallout } from '../../components/error-callout';
import { useApp } from '../../store/app-store';
import { formatFileSize } from './bench-format';
import { DisagreementsTable } from './disagreements-table';
import { DROP_MAX_BYTES, filesFromDataTransfer, filesFromInput, planGroups, readGroup, type PickedFile } from './dropped-files';

interface Outcome {
  /** What was imported together: a directory name or the file names. */
  label: string;
  result: { runs: RunSummary[]; reports: ImportReport[] } | null;
  error: ErrorPayload | null;
}

function ImportReportView({ report, run, index }: { report: ImportReport; run: RunSummary | undefined; index: number }) {
  const navigate = useApp((s) => s.navigate);
  return (
    <div className={`callout ${report.disagreements.length ? 'callout-warn' : 'callout-ok'} import-report`} data-testid={`import-report-${index}`} data-run-id={report.runId}>
      <div className="callout-title">
        Imported {report.tool} run{' '}
        <a
          href={`#/benchmarks/run/${encodeURIComponent(report.runId)}`}
          onClick={(e) => {
            e.preventDefault();
            navigate({ page: 'benchmarks', view: 'run', id: report.runId });
          }}
          data-testid={`import-open-${index}`}
        >
          {run?.name ?? report.runId}
        </a>
      </div>
      <div className="small">
        {report.sources.join(', ')} · {report.kinds.join(', ')}
        {report.recordCount ? ` · ${report.recordCount.toLocaleString('en-US')} per-request records` : ' · summary only (no per-request records)'}
      </div>
      {report.comparedCount ? (
        report.disagreements.length ? (
          <div className="small" data-testid={`import-disagreements-${index}`} data-count={report.disagreements.length}>
            {report.disagreements.length} of {report.comparedCount} figures the tool reported differ from those recomputed from its records:
            <DisagreementsTable rows={report.disagreements} testId={`import-disagreements-table-${index}`} />
          </div>
        ) : (
          <div className="small" data-testid={`import-agrees-${index}`}>
            All {report.comparedCount} figures the tool reported agree with those recomputed from its records.
          </div>
        )
      ) : null}
      {report.ignored.length ? (
        <div className="small muted" data-testid={`import-ignored-${index}`}>
          Not imported: {report.ignored.map((i) => `${i.name} (${i.reason})`).join('; ')}
        </div>
      ) : null}
      {report.notes.map((n) => (
        <div key={n} className="small muted">
          {n}
        </div>
      ))}
    </div>
  );
}

/**
 * Drop result files or run directories here (or pick them): each directory imports as one run,
 * loose files together as another, through runs.import with the files' texts.
 */
export function ImportPanel() {
  const importRuns = useApp((s) => s.importRuns);
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [problem, setProblem] = useState<ErrorPayload | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);

  const run = async (picked: PickedFile[]): Promise<void> => {
    setProblem(null);
    setOutcomes([]);
    const plan = planGroups(picked);
    if (plan.groups.length === 0) {
      setProblem({
        code: 'import-nothing',
        message: picked.length
          ? `None of the dropped files can be a benchmark result (${plan.skipped.slice(0, 5).join(', ')}). Drop profile_export.json(l), *_genai_perf.json/csv, profile_export_aiperf.json/csv or a vllm bench serve result JSON.`
          : 'Nothing was dropped. Drop result files or a run directory.',
      });
      return;
    }
    if (plan.bytes > DROP_MAX_BYTES) {
      setProblem({
        code: 'import-too-large',
        message: `The dropped files are ${formatFileSize(plan.bytes)}, more than the ${formatFileSize(DROP_MAX_BYTES)} a drop can carry. Import them from disk instead: handoff import PATH.`,
      });
      return;
    }
    const results: Outcome[] = [];
    for (const g of plan.groups) {
      const label = g.name ?? g.files.map((f) => f.path).join(', ');
      setBusy(`Reading and importing ${label}…`);
      let group;
      try {
        group = await readGroup(g);
      } catch (err) {
        results.push({ label, result: null, error: { code: 'file-unreadable', message: `Could not read ${label}: ${err instanceof Error ? err.message : String(err)}. Check the files are readable and drop them again.` } });
        continue;
      }
      const r = await importRuns({ files: group.files, ...(g.name ? { name: g.name } : {}) });
      results.push(r.ok ? { label, result: r.value, error: null } : { label, result: null, error: r.error });
      setOutcomes([...results]);
    }
    setOutcomes(results);
    setBusy(null);
  };

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setOver(false);
    const dt = e.dataTransfer;
    void filesFromDataTransfer(dt).then(run, (err: unknown) => setProblem({ code: 'file-unreadable', message: `Could not read what was dropped: ${err instanceof Error ? err.message : String(err)}.` }));
  };

  return (
    <section className="card import-panel" data-testid="import-panel">
      <div
        className={`drop-zone${over ? ' drop-zone-over' : ''}`}
        data-testid="import-drop-zone"
        data-busy={busy ? 'true' : undefined}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <div>
          <strong>Import results:</strong> drop GenAI-Perf, AIPerf or <span className="mono">vllm bench serve</span> files or run directories here, or{' '}
          <button type="button" className="btn btn-small" onClick={() => fileInput.current?.click()} data-testid="import-pick-files">
            pick files
          </button>{' '}
          <button type="button" className="btn btn-small" onClick={() => dirInput.current?.click()} data-testid="import-pick-directory">
            pick a directory
          </button>
        </div>
        <div className="muted small">Per-request records are recomputed and checked against the tool's own summary. API keys and auth headers are redacted.</div>
        {busy ? (
          <div className="small" data-testid="import-busy">
            {busy}
          </div>
        ) : null}
      </div>
      <input
        ref={fileInput}
        type="file"
        multiple
        hidden
        data-testid="import-file-input"
        onChange={(e) => {
          const list = e.target.files;
          if (list?.length) void run(filesFromInput(list));
          e.target.value = '';
        }}
      />
      <input
        ref={dirInput}
        type="file"
        multiple
        hidden
        data-testid="import-directory-input"
        {...{ webkitdirectory: '' }}
        onChange={(e) => {
          const list = e.target.files;
          if (list?.length) void run(filesFromInput(list));
          e.target.value = '';
        }}
      />
      {problem ? <ErrorCallout error={problem} title="Nothing was imported" testId="import-error" /> : null}
      {outcomes.map((o, i) =>
        o.error ? (
          <ErrorCallout key={`${o.label}-${i}`} error={o.error} title={`Could not import ${o.label}`} testId={`import-error-${i}`} />
        ) : (
          o.result?.reports.map((rep, j) => <ImportReportView key={rep.runId} report={rep} run={o.result!.runs[j]} index={i} />)
        ),
      )}
    </section>
  );
}
