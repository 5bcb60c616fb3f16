import type { StateCreator } from 'zustand';
import type { HandoffApi } from '../../common/api-contract';
import type { ReportExportParams, ReportReadResult } from '../../common/report-model';
import type { Task } from '../../common/task';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export interface ReportsSlice {
  /** Starts reports.export; its progress arrives as task.updated like every long action. */
  exportReport(params: ReportExportParams): Promise<ActionResult<Task>>;
  /** An exported file's bytes, to offer it as a download in the browser. */
  readReport(path: string): Promise<ActionResult<ReportReadResult>>;
}

export const createReportsSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], ReportsSlice> =>
  (_set, get) => ({
    exportReport: async (params) => {
      const r = await attempt(() => api.call('reports.export', params));
      if (r.ok) get().seedTask(r.value);
      return r;
    },
    readReport: (path) => attempt(() => api.call('reports.read', { path })),
  });
