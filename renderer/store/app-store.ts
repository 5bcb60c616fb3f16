import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { HandoffApi } from '../../common/api-contract';
import type { Route } from '../routes';
import { createChatSlice, type ChatSlice } from './chat-slice';
import { createDeploymentsSlice, type DeploymentsSlice } from './deployments-slice';
import { createFabricSlice, type FabricSlice } from './fabric-slice';
import { createHostsSlice, type HostsSlice } from './hosts-slice';
import { createReportsSlice, type ReportsSlice } from './reports-slice';
import { createRunsSlice, type RunsSlice } from './runs-slice';
import { createTasksSlice, type TasksSlice } from './tasks-slice';
import { createUiSlice, type UiSlice } from './ui-slice';
import { createWaterfallSlice, type WaterfallSlice } from './waterfall-slice';

export type AppState = HostsSlice & TasksSlice & UiSlice & DeploymentsSlice & RunsSlice & ChatSlice & ReportsSlice & WaterfallSlice & FabricSlice;
export type AppStore = StoreApi<AppState>;

/** One store of slices; the API is injected so tests can drive it with their own handler. */
export function createAppStore(api: HandoffApi, initialRoute?: Route): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createHostsSlice(api)(...a),
    ...createTasksSlice(api)(...a),
    ...createUiSlice(initialRoute)(...a),
    ...createDeploymentsSlice(api)(...a),
    ...createChatSlice(api)(...a),
    ...createRunsSlice(api)(...a),
    ...createReportsSlice(api)(...a),
    ...createWaterfallSlice(api)(...a),
    ...createFabricSlice(api)(...a),
  }));
}

export const AppStoreContext = createContext<AppStore | null>(null);

/** Select the smallest piece needed; return primitives or stable references (zustand v5). */
export function useApp<T>(selector: (s: AppState) => T): T {
  const store = useContext(AppStoreContext);
  if (!store) throw new Error('useApp needs an <AppStoreContext.Provider>');
  return useStore(store, selector);
}
