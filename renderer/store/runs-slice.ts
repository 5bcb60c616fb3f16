import type { StateCreator } from 'zustand';
import type { ApiEvent, ApiParams, ApiResult, HandoffApi } from '../../common/api-contract';
import type { Comparison } from '../../common/compare';
import type { ErrorPayload } from '../../common/errors';
import type { PackedRunSeries } from '../../common/run-series';
import type { RunDetail, RunSummary } from '../../common/run-view';
import { attempt, type ActionResult } from './action-result';
import type { AppState, AppStore } from './app-store';

/** A benchmark this window started: its task, and the runs it makes. */
export interface BenchLaunch {
  taskId: string;
  runIds: string[];
  group: string | null;
  deployment: string;
}

export interface RunsSlice {
  runs: RunSummary[];
  runsLoaded: boolean;
  runsError: ErrorPayload | null;
  /** runs.get answers by run id. */
  runDetails: Record<string, RunDetail>;
  runDetailErrors: Record<string, ErrorPayload>;
  /** runs.series answers by run id (chart data; immutable once a run is stored). */
  runSeries: Record<string, PackedRunSeries>;
  runSeriesErrors: Record<string, ErrorPayload>;
  /** The last benchmark started from the New benchmark form, kept while the user looks elsewhere. */
  benchLaunch: BenchLaunch | null;
  setRuns(list: RunSummary[]): void;
  loadRuns(refresh?: boolean): Promise<void>;
  loadRun(id: string): Promise<ActionResult<RunDetail>>;
  loadRunSeries(id: string): Promise<ActionResult<PackedRunSeries>>;
  importRuns(params: ApiParams<'runs.import'>): Promise<ActionResult<ApiResult<'runs.import'>>>;
  /** runs.start for one load point, runs.sweep for several concurrencies. */
  startBench(params: ApiParams<'runs.sweep'>): Promise<ActionResult<ApiResult<'runs.start'>>>;
  clearBenchLaunch(): void;
  cancelRun(id: string): Promise<ActionResult<RunSummary[]>>;
  deleteRun(id: string): Promise<ActionResult<string[]>>;
  compareRuns(params: ApiParams<'runs.compare'>): Promise<ActionResult<Comparison>>;
}

function without<T>(rec: Record<string, T>, key: string): Record<string, T> {
  if (!(key in rec)) return rec;
  const copy = { ...rec };
  delete copy[key];
  return copy;
}

export const createRunsSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], RunsSlice> =>
  (set, get) => ({
    runs: [],
    runsLoaded: false,
    runsError: null,
    runDetails: {},
    runDetailErrors: {},
    runSeries: {},
    runSeriesErrors: {},
    benchLaunch: null,
    setRuns: (runs) => set({ runs, runsLoaded: true, runsError: null }),
    loadRuns: async (refresh) => {
      const r = await attempt(() => api.call('runs.list', refresh ? { refresh: true } : {}));
      if (r.ok) get().setRuns(r.value);
      else set({ runsError: r.error, runsLoaded: true });
    },
    loadRun: async (id) => {
      const r = await attempt(() => api.call('runs.get', { id }));
      if (r.ok) set((s) => ({ runDetails: { ...s.runDetails, [id]: r.value }, runDetailErrors: without(s.runDetailErrors, id) }));
      else set((s) => ({ runDetailErrors: { ...s.runDetailErrors, [id]: r.error } }));
      return r;
    },
    loadRunSeries: async (id) => {
      const r = await attempt(() => api.call('runs.series', { id }));
      if (r.ok) set((s) => ({ runSeries: { ...s.runSeries, [id]: r.value }, runSeriesErrors: without(s.runSeriesErrors, id) }));
      else set((s) => ({ runSeriesErrors: { ...s.runSeriesErrors, [id]: r.error } }));
      return r;
    },
    importRuns: async (params) => {
      const r = await attempt(() => api.call('runs.import', params));
      if (r.ok) void get().loadRuns();
      return r;
    },
    startBench: async (params) => {
      const { concurrencies, requestRates, ...one } = params;
      const sweep = (concurrencies?.length ?? 0) > 1 || (requestRates?.length ?? 0) > 1;
      const r = await attempt(() =>
        sweep
          ? api.call('runs.sweep', params)
          : api.call('runs.start', {
              ...one,
              workload: {
                ...one.workload,
                ...(concurrencies?.length ? { concurrency: concurrencies[0] } : {}),
                ...(requestRates?.length ? { requestRate: requestRates[0] } : {}),
              },
            }),
      );
      if (r.ok) {
        get().seedTask(r.value.task);
        set({ benchLaunch: { taskId: r.value.task.id, runIds: r.value.runIds, group: r.value.group, deployment: params.deployment } });
        void get().loadRuns();
      }
      return r;
    },
    clearBenchLaunch: () => set({ benchLaunch: null }),
    cancelRun: (id) => attempt(() => api.call('runs.cancel', { id })),
    deleteRun: async (id) => {
      const r = await attempt(() => api.call('runs.delete', { id }));
      if (!r.ok) return r;
      set((s) => {
        let details = s.runDetails;
        let series = s.runSeries;
        for (const d of r.value.deleted) {
          details = without(details, d);
          series = without(series, d);
        }
        return { runDetails: details, runSeries: series, runs: s.runs.filter((x) => !r.value.deleted.includes(x.id)) };
      });
      return { ok: true, value: r.value.deleted };
    },
    compareRuns: (params) => attempt(() => api.call('runs.compare', params)),
  });

/** Keeps the run list current: runs.changed as runs start, finish and are collected or imported. */
export function startRunsSync(store: AppStore, api: HandoffApi): () => void {
  return api.on('runs.changed', (list: ApiEvent<'runs.changed'>) => {
    const s = store.getState();
    s.setRuns(list);
    // A run that changed after its detail was read (collected, status moved) is read again when shown.
    const stale = list.filter((r) => {
      const d = s.runDetails[r.id];
      return d && (d.summary.status !== r.status || d.summary.location !== r.location);
    });
    if (stale.length) {
      store.setState((st) => {
        let details = st.runDetails;
        let series = st.runSeries;
        for (const r of stale) {
          details = without(details, r.id);
          series = without(series, r.id);
        }
        return { runDetails: details, runSeries: series };
      });
    }
  });
}
