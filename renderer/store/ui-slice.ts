import type { StateCreator } from 'zustand';
import type { ApiResult } from '../../common/api-contract';
import { DEFAULT_ROUTE, type Route } from '../routes';
import type { ConnectionStatus } from '../transport/connection-status';
import type { AppState } from './app-store';

/**
 * A line in the banner area above every page. It is where app-wide facts go that a user must
 * not miss, such as "this deployment runs the simulated engine".
 */
export interface Notice {
  id: string;
  tone: 'info' | 'warning' | 'error';
  text: string;
  /** Facts such as "simulated engine" stay until their cause goes away; only passing news may be closed. */
  dismissible?: boolean;
}

export interface UiSlice {
  route: Route;
  navigate(route: Route): void;
  connection: ConnectionStatus;
  setConnection(c: ConnectionStatus): void;
  appInfo: ApiResult<'app.info'> | null;
  setAppInfo(info: ApiResult<'app.info'>): void;
  notices: Notice[];
  showNotice(n: Notice): void;
  dismissNotice(id: string): void;
}

export const createUiSlice =
  (initialRoute: Route = DEFAULT_ROUTE): StateCreator<AppState, [], [], UiSlice> =>
  (set) => ({
    route: initialRoute,
    navigate: (route) => set({ route }),
    connection: { state: 'connecting' },
    setConnection: (connection) => set({ connection }),
    appInfo: null,
    setAppInfo: (appInfo) => set({ appInfo }),
    notices: [],
    showNotice: (n) => set((s) => ({ notices: [...s.notices.filter((x) => x.id !== n.id), n] })),
    dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((x) => x.id !== id) })),
  });
