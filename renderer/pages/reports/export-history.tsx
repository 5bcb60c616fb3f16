import { useState } from 'react';
import type { ErrorPayload } from '../../../common/errors';
import type { ListedReportEntry, ReportHistoryList } from '../../../common/report-history';
import type { RunSummary } from '../../../common/run-view';
import { ErrorCallout } from '../../components/error-callout';
import { download, ReportExportMenu, type ReportTarget } from '../../components/report-export-menu';
import { formatBytes, formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { SIMULATED_TEXT } from '../deployments/simulated';
import { AppLink } from './reportable-tables';

const FORMAT_LABEL: Record<ListedReportEntry['format'], string> = { html: 'HTML', pdf: 'PDF', csv: 'CSV', bundle: 'Bundle' };
const KIND_LABEL: Record<ListedReportEntry['kind'], string> = { runs: 'runs', sweep: 'sweep', compare: 'comparison', unknown: 'found on disk' };

/** The same report made again from the same source, when the history knows it. */
function againTarget(e: ListedReportEntry): ReportTarget | null {
  if (e.source.compare) return { compare: e.source.compare };
  if (e.source.sweepId) return { sweepId: e.source.sweepId };
  if (e.source.runIds?.length) return { runIds: e.source.runIds };
  return null;
}

function SourceRuns({ entry, runs }: { entry: ListedReportEntry; runs: readonly RunSummary[] }) {
  if (!entry.runIds.length) return <span className="muted small">not recorded</span>;
  const shown = entry.runIds.slice(0, 4);
  return (
    <span className="history-runs small" data-testid={`history-runs-${entry.id}`}>
      {entry.source.compare ? <span className="muted">A vs B: </span> : null}
      {shown.map((id, i) => {
        const run = runs.find((r) => r.id === id);
        return (
          <span key={id}>
            {i ? ', ' : ''}
            {run ? (
              <AppLink route={{ page: 'benchmarks', view: 'run', id }}>{run.name ?? id}</AppLink>
            ) : (
              <span className="mono" title="This run is no longer on this computer.">
                {id}
              </span>
            )}
          </span>
        );
      })}
      {entry.runIds.length > shown.length ? <span className="muted"> +{entry.runIds.length - shown.length} more</span> : null}
    </span>
  );
}

function FileActions({ entry, file, history, onError }: { entry: ListedReportEntry; file: ListedReportEntry['files'][number]; history: ReportHistoryList; onError: (e: ErrorPayload | null) => void }) {
  const openReport = useApp((s) => s.openReport);
  const readReport = useApp((s) => s.readReport);
  const base = `history-${entry.id}`;
  if (file.missing) {
    return (
      <span className="history-missing small" data-testid={`${base}-missing`}>
        moved or deleted since it was exported; export it again
      </span>
    );
  }
  const open = async (reveal: boolean): Promise<void> => {
    onError(null);
    const r = await openReport(file.path, reveal);
    if (!r.ok) onError(r.error);
  };
  const fetchFile = async (): Promise<void> => {
    onError(null);
    const r = await readReport(file.path);
    if (r.ok) download(r.value.name, r.value.mimeType, r.value.dataBase64);
    else onError(r.error);
  };
  return (
    <span className="history-actions">
      {history.canOpen ? (
        <>
          <button type="button" className="btn btn-small" onClick={() => void open(false)} data-testid={`${base}-open`}>
            Open
          </button>
          <button type="button" className="btn btn-small" onClick={() => void open(true)} data-testid={`${base}-reveal`}>
            Show in folder
          </button>
        </>
      ) : (
        <button type="button" className="btn btn-small" onClick={() => void fetchFile()} title="The file stays where it was written; this hands a copy to the browser." data-testid={`${base}-download`}>
          Download
        </button>
      )}
    </span>
  );
}

function HistoryRow({ entry, history, runs }: { entry: ListedReportEntry; history: ReportHistoryList; runs: readonly RunSummary[] }) {
  const forgetReport = useApp((s) => s.forgetReport);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const target = againTarget(entry);
  return (
    <tr data-testid={`history-row-${entry.id}`} data-format={entry.format}>
      <td className="small" title={entry.exportedAt}>
        {formatAgo(entry.exportedAt)}
      </td>
      <td>
        <div>
          <span data-testid={`history-title-${entry.id}`}>{entry.title}</span>{' '}
          <span className="badge" data-testid={`history-format-${entry.id}`}>
            {FORMAT_LABEL[entry.format]}
          </span>{' '}
          {entry.simulated ? (
            <span className="badge badge-simulated" title={SIMULATED_TEXT} data-testid={`history-simulated-${entry.id}`}>
              Simulated
            </span>
          ) : null}{' '}
          {entry.recovered ? (
            <span className="badge" title="Listed again from the reports folder after the history file was found damaged." data-testid={`history-recovered-${entry.id}`}>
              Recovered
            </span>
          ) : null}
        </div>
        <div className="muted small">{KIND_LABEL[entry.kind]}</div>
      </td>
      <td>
        <SourceRuns entry={entry} runs={runs} />
      </td>
      <td className="history-files">
        {entry.files.map((f) => (
          <div key={f.path} className="history-file">
            <code className="small" data-testid={`history-path-${entry.id}`}>
              {f.path}
            </code>
            <span className="muted small"> {formatBytes(f.bytes)}</span> <FileActions entry={entry} file={f} history={history} onError={setError} />
          </div>
        ))}
        {error ? <ErrorCallout error={error} title="Could not open the file" testId={`history-error-${entry.id}`} /> : null}
      </td>
      <td className="history-row-actions">
        {target ? (
          <span className="history-again" title="Make the same report again from the runs as they are now.">
            <span className="muted small">Again:</span> <ReportExportMenu target={target} testId={`history-again-${entry.id}`} />
          </span>
        ) : null}
        <button type="button" className="btn btn-small" title="Removes the entry; the files stay where they are." onClick={() => void forgetReport(entry.id).then((r) => (r.ok ? null : setError(r.error)))} data-testid={`history-forget-${entry.id}`}>
          Remove
        </button>
      </td>
    </tr>
  );
}

/** Exports made by this Handoff: where their files are, when, from which runs; open or download them. */
export function ExportHistory({ runs }: { runs: readonly RunSummary[] }) {
  const history = useApp((s) => s.reportHistory);
  const error = useApp((s) => s.reportHistoryError);
  return (
    <section className="card card-flush" data-testid="history">
      <div className="card-pad history-head">
        <h2>Export history</h2>
        {history ? (
          <span className="muted small">
            Exports without a chosen place go to <code data-testid="history-dir">{history.reportsDir}</code>
            {history.canOpen ? '' : '. In the browser, Download hands you a copy of a file.'}
          </span>
        ) : null}
      </div>
      {error ? (
        <div className="card-pad">
          <ErrorCallout error={error} title="Could not read the export history" testId="history-load-error" />
        </div>
      ) : null}
      {history?.problem ? (
        <div className="card-pad">
          <div className="callout callout-warn" role="status" data-testid="history-problem">
            <div className="callout-title">The export history was repaired</div>
            <div className="small">{history.problem}</div>
          </div>
        </div>
      ) : null}
      {!history && !error ? <p className="card-pad muted">Loading…</p> : null}
      {history && history.entries.length === 0 ? (
        <p className="card-pad muted" data-testid="history-empty">
          No exports yet. Choose <strong>Export</strong> on a run or sweep, or compose a comparison above: each export is listed here with where its files went.
        </p>
      ) : null}
      {history && history.entries.length > 0 ? (
        <table className="table table-hosts history-table" data-testid="history-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Report</th>
              <th>From</th>
              <th>Files</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {history.entries.map((e) => (
              <HistoryRow key={e.id} entry={e} history={history} runs={runs} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
