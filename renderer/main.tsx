import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api';
import { App, StartupError } from './app';
import { formatRoute, parseRoute } from './routes';
import { AppStoreContext, createAppStore } from './store/app-store';
import { startSync } from './store/sync';
import './styles.css';

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html lacks #root');
const root = createRoot(rootEl);
const api = createApi();

if ('error' in api) {
  root.render(<StartupError message={api.error} />);
} else {
  const store = createAppStore(api, parseRoute(window.location.hash));
  startSync(store, api);
  // The hash mirrors the route both ways, so reload, back and forward work.
  window.addEventListener('hashchange', () => {
    const route = parseRoute(window.location.hash);
    if (formatRoute(route) !== formatRoute(store.getState().route)) store.getState().navigate(route);
  });
  store.subscribe((s, prev) => {
    if (s.route !== prev.route) {
      const hash = formatRoute(s.route);
      if (window.location.hash !== hash) window.location.hash = hash;
      document.querySelector('.content')?.scrollTo(0, 0);
    }
  });
  root.render(
    <StrictMode>
      <AppStoreContext.Provider value={store}>
        <App />
      </AppStoreContext.Provider>
    </StrictMode>,
  );
}
