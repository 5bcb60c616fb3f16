import type { StateCreator } from 'zustand';
import type { HandoffApi } from '../../common/api-contract';
import type { RunWaterfall } from '../../common/waterfall';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export interface WaterfallSlice {
  /** runs.waterfall: one request's phases (or the slowest's), the TTFT breakdown and the disaggregation check. */
  fetchRunWaterfall(id: string, requestId?: string): Promise<ActionResult<RunWaterfall>>;
}

export const createWaterfallSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], WaterfallSlice> =>
  () => ({
    fetchRunWaterfall: (id, requestId) => attempt(() => api.call('runs.waterfall', requestId === undefined ? { id } : { id, requestId })),
  });
