import type { StateCreator } from 'zustand';
import type { AddHostParams, HandoffApi } from '../../common/api-contract';
import type { ErrorPayload } from '../../common/errors';
import type { HostStatus } from '../../common/host';
import type { Task } from '../../common/task';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export interface HostsSlice {
  hosts: HostStatus[];
  hostsLoaded: boolean;
  hostsError: ErrorPayload | null;
  /** The last task this window started for each host, so its view can show that task's progress. */
  hostTaskIds: Record<string, string>;
  setHosts(hosts: HostStatus[]): void;
  loadHosts(): Promise<void>;
  addHost(params: AddHostParams): Promise<ActionResult<Task>>;
  checkHost(name: string): Promise<ActionResult<Task>>;
  removeHost(name: string): Promise<ActionResult<true>>;
}

export const createHostsSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], HostsSlice> =>
  (set, get) => ({
    hosts: [],
    hostsLoaded: false,
    hostsError: null,
    hostTaskIds: {},
    setHosts: (hosts) => set({ hosts, hostsLoaded: true, hostsError: null }),
    loadHosts: async () => {
      const r = await attempt(() => api.call('hosts.list'));
      if (r.ok) get().setHosts(r.value);
      else set({ hostsError: r.error });
    },
    addHost: async (params) => {
      const r = await attempt(() => api.call('hosts.add', params));
      if (!r.ok) return r;
      const { host, task } = r.value;
      get().seedTask(task);
      // As with tasks, hosts.changed events are the current state; the reply only fills a gap.
      set((s) => ({
        hosts: s.hosts.some((h) => h.config.name === host.config.name) ? s.hosts : [...s.hosts, host],
        hostTaskIds: { ...s.hostTaskIds, [host.config.name]: task.id },
      }));
      return { ok: true, value: task };
    },
    checkHost: async (name) => {
      const r = await attempt(() => api.call('hosts.check', { name }));
      if (r.ok) {
        get().seedTask(r.value);
        set((s) => ({ hostTaskIds: { ...s.hostTaskIds, [name]: r.value.id } }));
      }
      return r;
    },
    removeHost: async (name) => {
      const r = await attempt(() => api.call('hosts.remove', { name }));
      if (!r.ok) return r;
      set((s) => {
        const hostTaskIds = { ...s.hostTaskIds };
        delete hostTaskIds[name];
        return { hosts: s.hosts.filter((h) => h.config.name !== name), hostTaskIds };
      });
      return { ok: true, value: true };
    },
  });
