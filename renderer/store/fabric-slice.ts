import type { StateCreator } from 'zustand';
import type { ApiParams, HandoffApi } from '../../common/api-contract';
import type { ErrorPayload } from '../../common/errors';
import type { FabricProbeRecord } from '../../common/kv/fabric-probe';
import type { Task } from '../../common/task';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export type FabricProbeRequest = ApiParams<'hosts.fabricProbe'>;

/** Identity of one check the UI started: the pair and the model shape it asked for. */
export function fabricRequestKey(p: FabricProbeRequest): string {
  return `${p.host}:${p.srcGpu}->${p.dstGpu}:${p.model ?? 'shape'}:tp${p.tp ?? 1}:bs${p.blockSize ?? 16}`;
}

export interface FabricSlice {
  /** Stored fabric probe records per host (hosts.fabric), newest first. */
  fabricRecords: Record<string, FabricProbeRecord[]>;
  fabricErrors: Record<string, ErrorPayload>;
  /** The last probe task this window started per fabricRequestKey, so the wizard and host view show its progress. */
  fabricTaskIds: Record<string, string>;
  loadFabric(host: string): Promise<ActionResult<FabricProbeRecord[]>>;
  startFabricProbe(params: FabricProbeRequest): Promise<ActionResult<Task>>;
}

export const createFabricSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], FabricSlice> =>
  (set, get) => ({
    fabricRecords: {},
    fabricErrors: {},
    fabricTaskIds: {},
    loadFabric: async (host) => {
      const r = await attempt(() => api.call('hosts.fabric', { host }));
      if (!r.ok) {
        set((s) => ({ fabricErrors: { ...s.fabricErrors, [host]: r.error } }));
        return r;
      }
      set((s) => {
        const errors = { ...s.fabricErrors };
        delete errors[host];
        return { fabricRecords: { ...s.fabricRecords, [host]: r.value.records }, fabricErrors: errors };
      });
      return { ok: true, value: r.value.records };
    },
    startFabricProbe: async (params) => {
      const r = await attempt(() => api.call('hosts.fabricProbe', params));
      if (r.ok) {
        get().seedTask(r.value);
        set((s) => ({ fabricTaskIds: { ...s.fabricTaskIds, [fabricRequestKey(params)]: r.value.id } }));
      }
      return r;
    },
  });
