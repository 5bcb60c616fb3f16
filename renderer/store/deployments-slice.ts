import type { StateCreator } from 'zustand';
import type { ApiEvent, ApiResult, HandoffApi } from '../../common/api-contract';
import type { DeploymentSummary, DeploymentView, ForwardInfo, PlanOutcome, TeardownOutcome } from '../../common/deployment-view';
import type { ErrorPayload } from '../../common/errors';
import { SeriesBook } from '../charts/deployment-series';
import { trailingThrottle } from '../charts/throttle';
import { attempt, type ActionResult } from './action-result';
import type { AppState, AppStore } from './app-store';
import type { WizardDraft } from './deployment-draft';
import { LogBook } from './log-book';

/** Charts and logs redraw at most this often however fast samples and lines arrive. */
export const LIVE_REDRAW_MS = 250;

/** Buffers for high-rate data, outside React state; the store carries their version numbers. */
export interface DeploymentLive {
  series: SeriesBook;
  logs: LogBook;
}

export interface DeploymentsSlice {
  deployments: DeploymentSummary[];
  deploymentsLoaded: boolean;
  deploymentsError: ErrorPayload | null;
  /** deployments.status answers, by deployment id. */
  deploymentViews: Record<string, DeploymentView>;
  deploymentViewErrors: Record<string, ErrorPayload>;
  /** The deploy task this window started for each deployment. */
  deployTaskIds: Record<string, string>;
  forwards: Record<string, ForwardInfo>;
  live: DeploymentLive;
  /** Bumped (throttled) when samples arrive: charts recompute their downsampled view. */
  chartsVersion: number;
  /** Bumped (throttled) when followed log lines arrive. */
  logsVersion: number;
  /** The wizard's form, kept while the user looks at other pages. */
  draft: WizardDraft | null;
  setDraft(update: (d: WizardDraft) => WizardDraft): void;
  resetDraft(draft: WizardDraft | null): void;
  setDeployments(list: DeploymentSummary[]): void;
  loadDeployments(refresh?: boolean): Promise<void>;
  loadDeployment(id: string): Promise<ActionResult<DeploymentView>>;
  planSpec(specText: string, source?: string): Promise<ActionResult<PlanOutcome>>;
  applySpec(specText: string, source?: string): Promise<ActionResult<ApiResult<'deployments.apply'>>>;
  teardownDeployment(id: string): Promise<ActionResult<TeardownOutcome>>;
  forwardDeployment(id: string): Promise<ActionResult<ForwardInfo>>;
  /** Starts live samples; resolves to the function that stops them. */
  watchDeployment(id: string): Promise<ActionResult<() => void>>;
  /** Loads the last lines and follows new ones (of one process, or all); resolves to the stop function. */
  followLogs(id: string, process?: string): Promise<ActionResult<() => void>>;
}

export const createDeploymentsSlice =
  (api: HandoffApi, live: DeploymentLive = { series: new SeriesBook(), logs: new LogBook() }): StateCreator<AppState, [], [], DeploymentsSlice> =>
  (set, get) => ({
    deployments: [],
    deploymentsLoaded: false,
    deploymentsError: null,
    deploymentViews: {},
    deploymentViewErrors: {},
    deployTaskIds: {},
    forwards: {},
    live,
    chartsVersion: 0,
    logsVersion: 0,
    draft: null,
    setDraft: (update) => set((s) => (s.draft ? { draft: update(s.draft) } : s)),
    resetDraft: (draft) => set({ draft }),
    setDeployments: (deployments) =>
      set((s) => {
        // A list entry is newer than a view's header fields (state, error): keep views in step.
        const views = { ...s.deploymentViews };
        for (const d of deployments) {
          const v = views[d.id];
          if (v) views[d.id] = { ...v, ...d };
        }
        return { deployments, deploymentsLoaded: true, deploymentsError: null, deploymentViews: views };
      }),
    loadDeployments: async (refresh) => {
      const r = await attempt(() => api.call('deployments.list', refresh ? { refresh: true } : {}));
      if (r.ok) get().setDeployments(r.value);
      else set({ deploymentsError: r.error, deploymentsLoaded: true });
    },
    loadDeployment: async (id) => {
      const r = await attempt(() => api.call('deployments.status', { id }));
      if (r.ok) {
        set((s) => {
          const errors = { ...s.deploymentViewErrors };
          delete errors[id];
          return { deploymentViews: { ...s.deploymentViews, [id]: r.value }, deploymentViewErrors: errors };
        });
      } else {
        set((s) => ({ deploymentViewErrors: { ...s.deploymentViewErrors, [id]: r.error } }));
      }
      return r;
    },
    planSpec: (specText, source) => attempt(() => api.call('deployments.plan', { specText, ...(source ? { source } : {}) })),
    applySpec: async (specText, source) => {
      const r = await attempt(() => api.call('deployments.apply', { specText, ...(source ? { source } : {}) }));
      if (r.ok) {
        const { deployment, task } = r.value;
        get().seedTask(task);
        set((s) => ({
          deployTaskIds: { ...s.deployTaskIds, [deployment.id]: task.id },
          deployments: s.deployments.some((d) => d.id === deployment.id) ? s.deployments : [...s.deployments, deployment],
        }));
      }
      return r;
    },
    teardownDeployment: async (id) => {
      const r = await attempt(() => api.call('deployments.teardown', { id }));
      if (r.ok) {
        set((s) => {
          const forwards = { ...s.forwards };
          delete forwards[id];
          return { forwards };
        });
        void get().loadDeployment(id);
      }
      return r;
    },
    forwardDeployment: async (id) => {
      const r = await attempt(() => api.call('deployments.forward', { id }));
      if (r.ok) set((s) => ({ forwards: { ...s.forwards, [id]: r.value } }));
      return r;
    },
    watchDeployment: async (id) => {
      const r = await attempt(() => api.call('deployments.watch', { id }));
      if (!r.ok) return r;
      const { watchId } = r.value;
      return { ok: true, value: () => void api.call('deployments.unwatch', { watchId }).catch(() => undefined) };
    },
    followLogs: async (id, process) => {
      const r = await attempt(() => api.call('deployments.logs', { id, lines: 200, follow: true, ...(process ? { process } : {}) }));
      if (!r.ok) return r;
      live.logs.reset(id, r.value);
      set((s) => ({ logsVersion: s.logsVersion + 1 }));
      const followId = r.value.followId;
      return {
        ok: true,
        value: () => {
          if (!followId) return;
          live.logs.forget(followId);
          void api.call('deployments.unfollow', { followId }).catch(() => undefined);
        },
      };
    },
  });

/**
 * Feeds deployment events into the store: the list as it changes, and samples and log lines into
 * the buffers with a throttled version bump, so a burst of events costs a few renders.
 */
export function startDeploymentsSync(store: AppStore, api: HandoffApi): () => void {
  const s = () => store.getState();
  const charts = trailingThrottle(() => store.setState((st) => ({ chartsVersion: st.chartsVersion + 1 })), LIVE_REDRAW_MS);
  const logs = trailingThrottle(() => store.setState((st) => ({ logsVersion: st.logsVersion + 1 })), LIVE_REDRAW_MS);
  const offs = [
    api.on('deployments.changed', (list: ApiEvent<'deployments.changed'>) => s().setDeployments(list)),
    api.on('deployments.sample', (sample: ApiEvent<'deployments.sample'>) => {
      if (s().live.series.ingest(sample)) charts.poke();
    }),
    api.on('deployments.log', (line: ApiEvent<'deployments.log'>) => {
      if (s().live.logs.append(line)) logs.poke();
    }),
  ];
  return () => {
    charts.cancel();
    logs.cancel();
    offs.forEach((off) => off());
  };
}
