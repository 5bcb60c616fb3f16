/** The pages of the left navigation, in order. */
export const PAGES = ['hosts', 'deployments', 'playground', 'benchmarks', 'reports'] as const;
export type PageId = (typeof PAGES)[number];

export type Route =
  | { page: 'hosts'; view: 'list' }
  | { page: 'hosts'; view: 'add' }
  | { page: 'hosts'; view: 'host'; host: string }
  | { page: 'deployments'; view: 'list' }
  | { page: 'deployments'; view: 'new' }
  | { page: 'deployments'; view: 'deployment'; id: string }
  | { page: 'benchmarks'; view: 'list' }
  | { page: 'benchmarks'; view: 'new' }
  | { page: 'benchmarks'; view: 'run'; id: string }
  | { page: 'benchmarks'; view: 'sweep'; group: string }
  | { page: 'benchmarks'; view: 'compare'; a: string; b: string }
  | { page: Exclude<PageId, 'hosts' | 'deployments' | 'benchmarks'> };

export const DEFAULT_ROUTE: Route = { page: 'hosts', view: 'list' };

/** Routes live in the URL hash so a reload keeps the page, and the `?token=` query stays untouched. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p.length > 0);
  const [page, a, b] = parts;
  if (page === 'hosts') {
    if (a === 'new') return { page: 'hosts', view: 'add' };
    if (a === 'host' && b !== undefined) {
      try {
        return { page: 'hosts', view: 'host', host: decodeURIComponent(b) };
      } catch {
        return DEFAULT_ROUTE;
      }
    }
    return DEFAULT_ROUTE;
  }
  if (page === 'deployments') {
    if (a === 'new') return { page: 'deployments', view: 'new' };
    if (a === 'deployment' && b !== undefined) {
      try {
        return { page: 'deployments', view: 'deployment', id: decodeURIComponent(b) };
      } catch {
        return { page: 'deployments', view: 'list' };
      }
    }
    return { page: 'deployments', view: 'list' };
  }
  if (page === 'benchmarks') return parseBenchmarksRoute(a, b, parts[3]);
  if (page === 'playground' || page === 'reports') return { page };
  return DEFAULT_ROUTE;
}

const decode = (s: string): string | null => {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

function parseBenchmarksRoute(a: string | undefined, b: string | undefined, c: string | undefined): Route {
  const list: Route = { page: 'benchmarks', view: 'list' };
  if (a === 'new') return { page: 'benchmarks', view: 'new' };
  const x = b === undefined ? null : decode(b);
  if (a === 'run' && x) return { page: 'benchmarks', view: 'run', id: x };
  if (a === 'sweep' && x) return { page: 'benchmarks', view: 'sweep', group: x };
  const y = c === undefined ? null : decode(c);
  if (a === 'compare' && x && y) return { page: 'benchmarks', view: 'compare', a: x, b: y };
  return list;
}

function formatBenchmarksRoute(route: Extract<Route, { page: 'benchmarks' }>): string {
  switch (route.view) {
    case 'list':
      return '#/benchmarks';
    case 'new':
      return '#/benchmarks/new';
    case 'run':
      return `#/benchmarks/run/${encodeURIComponent(route.id)}`;
    case 'sweep':
      return `#/benchmarks/sweep/${encodeURIComponent(route.group)}`;
    case 'compare':
      return `#/benchmarks/compare/${encodeURIComponent(route.a)}/${encodeURIComponent(route.b)}`;
  }
}

export function formatRoute(route: Route): string {
  if (route.page === 'benchmarks') return formatBenchmarksRoute(route);
  if (route.page === 'deployments') {
    if (route.view === 'new') return '#/deployments/new';
    if (route.view === 'deployment') return `#/deployments/deployment/${encodeURIComponent(route.id)}`;
    return '#/deployments';
  }
  if (route.page !== 'hosts') return `#/${route.page}`;
  switch (route.view) {
    case 'list':
      return '#/hosts';
    case 'add':
      return '#/hosts/new';
    case 'host':
      return `#/hosts/host/${encodeURIComponent(route.host)}`;
  }
}
