import { useState } from 'react';
import type { ErrorPayload } from '../../common/errors';
import { ReportExportResult, type ReportExportParams, type ReportFormat } from '../../common/report-model';
import { isTaskFinished } from '../../common/task';
import { useApp } from '../store/app-store';
import { ErrorCallout } from './error-callout';
import { TaskProgress } from './task-progress';
import './report-export-menu.css';

/** What is exported: runs, a sweep or a comparison, and its title (reports.export without format and path). */
export type ReportTarget = Pick<ReportExportParams, 'runIds' | 'compare' | 'sweepId' | 'gpuCountA' | 'gpuCountB' | 'title'>;

const FORMATS: ReadonlyArray<{ format: ReportFormat; label: string; hint: string }> = [
  { format: 'html', label: 'HTML report', hint: 'one self-contained file, opens offline' },
  { format: 'pdf', label: 'PDF', hint: 'the same report, printed' },
  { format: 'csv', label: 'CSV tables', hint: 'per-request records and aggregate metrics' },
  { format: 'bundle', label: 'Bundle (.tar.gz)', hint: 'run records, raw files, report; re-runnable' },
];

/** Hands bytes read through reports.read to the browser as a file download. */
export function download(name: string, mimeType: string, dataBase64: string): void {
  const bytes = Uint8Array.from(atob(dataBase64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The Export menu of the run, sweep and compare views: picks a format, follows the export task
 * with the one <TaskProgress>, then shows where the files were written with a Download button
 * for each (the controller may run on this computer, but a browser cannot open its paths).
 */
export function ReportExportMenu({ target, testId = 'export' }: { target: ReportTarget; testId?: string }) {
  const exportReport = useApp((s) => s.exportReport);
  const readReport = useApp((s) => s.readReport);
  const [open, setOpen] = useState(false);
  const [taskId, setTaskId] = useState<string | null>(null);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const task = useApp((s) => (taskId ? s.tasks[taskId] : undefined));
  const result = task?.state === 'succeeded' ? ReportExportResult.safeParse(task.result) : null;

  const start = async (format: ReportFormat) => {
    setOpen(false);
    setError(null);
    const r = await exportReport({ ...target, format } as ReportExportParams);
    if (r.ok) setTaskId(r.value.id);
    else setError(r.error);
  };

  const fetchFile = async (path: string) => {
    const r = await readReport(path);
    if (r.ok) download(r.value.name, r.value.mimeType, r.value.dataBase64);
    else setError(r.error);
  };

  return (
    <span className="export-menu" data-testid={testId}>
      <button type="button" className="btn" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid={`${testId}-button`}>
        Export ▾
      </button>
      {open ? (
        <div role="menu" className="export-menu-list card" data-testid={`${testId}-menu`}>
          {FORMATS.map((f) => (
            <button key={f.format} type="button" role="menuitem" className="export-menu-item" onClick={() => void start(f.format)} data-testid={`${testId}-${f.format}`}>
              <span>{f.label}</span>
              <span className="muted small"> — {f.hint}</span>
            </button>
          ))}
        </div>
      ) : null}
      {error ? (
        <div className="export-menu-panel card">
          <ErrorCallout error={error} title="Export failed" testId={`${testId}-error`} />
          <button type="button" className="btn btn-small" onClick={() => setError(null)} data-testid={`${testId}-error-dismiss`}>
            Close
          </button>
        </div>
      ) : null}
      {taskId && task?.state !== 'succeeded' ? (
        <div className="export-menu-panel card" data-testid={`${testId}-progress`}>
          <TaskProgress taskId={taskId} failureHint="Nothing was written, or only part of it; export again." />
          {task && isTaskFinished(task) ? (
            <button type="button" className="btn btn-small" onClick={() => setTaskId(null)} data-testid={`${testId}-progress-dismiss`}>
              Close
            </button>
          ) : null}
        </div>
      ) : null}
      {result?.success ? (
        <div className="export-menu-panel export-menu-done card" data-testid={`${testId}-done`}>
          <span className="small">Exported {result.data.title}{result.data.simulated ? ' (simulated engine)' : ''}:</span>
          {result.data.files.map((f) => (
            <span key={f.path} className="export-menu-file">
              <code className="small" data-testid={`${testId}-path`}>
                {f.path}
              </code>
              <button type="button" className="btn btn-small" onClick={() => void fetchFile(f.path)} data-testid={`${testId}-download`}>
                Download
              </button>
            </span>
          ))}
          <button type="button" className="btn btn-small" onClick={() => setTaskId(null)} data-testid={`${testId}-dismiss`}>
            Close
          </button>
        </div>
      ) : null}
    </span>
  );
}
