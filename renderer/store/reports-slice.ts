import type { StateCreator } from 'zustand';
import type { HandoffApi } from '../../common/api-contract';
import type { ErrorPayload } from '../../common/errors';
import type { ReportHistoryList } from '../../common/report-history';
import type { ReportExportParams, ReportReadResult } from '../../common/report-model';
import type { Task } from '../../common/task';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export interface ReportsSlice {
  /** reports.history: exports made by this Handoff (null until first loaded). */
  reportHistory: ReportHistoryList | null;
  reportHistoryError: ErrorPayload | null;
  /** Starts reports.export; its progress arrives as task.updated like every long action. */
  exportReport(params: ReportExportParams): Promise<ActionResult<Task>>;
  /** An exported file's bytes, to offer it as a download in the browser. */
  readReport(path: string): Promise<ActionResult<ReportReadResult>>;
  loadReportHistory(): Promise<void>;
  /** Opens an exported file (or shows it in its folder) where the controller can: the desktop app. */
  openReport(path: string, reveal?: boolean): Promise<ActionResult<{ ok: true }>>;
  forgetReport(id: string): Promise<ActionResult<{ forgotten: boolean }>>;
}

export const createReportsSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], ReportsSlice> =>
  (set, get) => ({
    reportHistory: null,
    reportHistoryError: null,
    exportReport: async (params) => {
      const r = await attempt(() => api.call('reports.export', params));
      if (r.ok) get().seedTask(r.value);
      return r;
    },
    readReport: (path) => attempt(() => api.call('reports.read', { path })),
    loadReportHistory: async () => {
      const r = await attempt(() => api.call('reports.history', {}));
      if (r.ok) set({ reportHistory: r.value, reportHistoryError: null });
      else set({ reportHistoryError: r.error });
    },
    openReport: (path, reveal) => attempt(() => api.call('reports.open', { path, ...(reveal ? { reveal: true } : {}) })),
    forgetReport: async (id) => {
      const r = await attempt(() => api.call('reports.forget', { id }));
      if (r.ok) await get().loadReportHistory();
      return r;
    },
  });
