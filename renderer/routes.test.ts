import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE, formatRoute, parseRoute, type Route } from './routes';

describe('routes', () => {
  it('round-trips every route through the URL hash', () => {
    const routes: Route[] = [
      { page: 'hosts', view: 'list' },
      { page: 'hosts', view: 'add' },
      { page: 'hosts', view: 'host', host: 'gpu-1.lab' },
      { page: 'deployments', view: 'list' },
      { page: 'deployments', view: 'new' },
      { page: 'deployments', view: 'deployment', id: 'seed-20250101-ab12' },
      { page: 'playground' },
      { page: 'benchmarks', view: 'list' },
      { page: 'benchmarks', view: 'new' },
      { page: 'benchmarks', view: 'run', id: 'imp-20260101-120000-ab12' },
      { page: 'benchmarks', view: 'sweep', group: 'sweep-20260101-120000-cd34' },
      { page: 'benchmarks', view: 'compare', a: 'run a/1', b: 'run-b' },
      { page: 'reports' },
    ];
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r);
  });

  it('falls back to the hosts list for empty, unknown or malformed hashes', () => {
    for (const h of ['', '#', '#/', '#/nope', '#/hosts/host', '#/hosts/host/%E0%A4%A']) expect(parseRoute(h)).toEqual(DEFAULT_ROUTE);
  });
});
