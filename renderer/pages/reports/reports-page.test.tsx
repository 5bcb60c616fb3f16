import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HandoffApi } from '../../../common/api-contract';
import type { ReportHistoryList } from '../../../common/report-history';
import type { RunSummary } from '../../../common/run-view';
import { AppStoreContext, createAppStore } from '../../store/app-store';
import { ExportHistory } from './export-history';
import { composePlan, exportProblem, filterRuns, NO_FILTER, suggestPair } from './reportable';
import { ReportsPage } from './reports-page';

const idle: HandoffApi = { call: () => new Promise(() => {}), on: () => () => {} };

function run(id: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    id, name: id, group: null, status: 'complete', location: 'local', host: null, tool: 'builtin', imported: false, simulated: true,
    deployment: { name: 'mocker-disaggregated', mode: 'disaggregated', engine: 'mocker', model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', gpuCount: 3 },
    deploymentId: null, createdAt: '2026-11-26T10:00:00Z', finishedAt: null, workload: { concurrency: 4 }, loadPoint: 'concurrency 4',
    headline: null, progress: null, taskId: null, problem: null, ...over,
  };
}

const agg = (id: string, over: Partial<RunSummary> = {}): RunSummary =>
  run(id, { deployment: { name: 'mocker-aggregated', mode: 'aggregated', engine: 'mocker', model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', gpuCount: 3 }, ...over });

describe('filterRuns', () => {
  const runs = [run('r-disagg'), agg('r-agg'), run('r-real', { simulated: false, deployment: { name: 'seed-disagg', mode: 'disaggregated', engine: 'vllm', gpuCount: 3 } }), run('r-imp', { imported: true, simulated: false, deployment: null, tool: 'genai-perf' })];

  it('keeps every run without a filter', () => {
    expect(filterRuns(runs, NO_FILTER).map((r) => r.id)).toEqual(['r-disagg', 'r-agg', 'r-real', 'r-imp']);
  });

  it('matches every word of the query against names, deployment, tool and load', () => {
    expect(filterRuns(runs, { ...NO_FILTER, query: 'genai' }).map((r) => r.id)).toEqual(['r-imp']);
    expect(filterRuns(runs, { ...NO_FILTER, query: 'MOCKER-aggregated concurrency' }).map((r) => r.id)).toEqual(['r-agg']);
    expect(filterRuns(runs, { ...NO_FILTER, query: 'concurrency 4 seed' }).map((r) => r.id)).toEqual(['r-real']);
  });

  it('filters by engine (simulated, real, imported) and by mode', () => {
    expect(filterRuns(runs, { ...NO_FILTER, engine: 'simulated' }).map((r) => r.id)).toEqual(['r-disagg', 'r-agg']);
    expect(filterRuns(runs, { ...NO_FILTER, engine: 'real' }).map((r) => r.id)).toEqual(['r-real']);
    expect(filterRuns(runs, { ...NO_FILTER, engine: 'imported' }).map((r) => r.id)).toEqual(['r-imp']);
    expect(filterRuns(runs, { ...NO_FILTER, mode: 'aggregated' }).map((r) => r.id)).toEqual(['r-agg']);
  });
});

describe('exportProblem', () => {
  it('says why a run still on its host, running or damaged cannot be exported yet', () => {
    expect(exportProblem(run('a'))).toBeNull();
    expect(exportProblem(run('a', { status: 'partial' }))).toBeNull();
    expect(exportProblem(run('a', { location: 'host', host: 'gpu1', status: 'running' }))).toMatch(/Still on gpu1/);
    expect(exportProblem(run('a', { status: 'damaged', problem: 'run.json is not valid JSON' }))).toBe('run.json is not valid JSON');
  });
});

describe('composePlan', () => {
  const runs = [agg('a'), run('b'), run('c'), run('imp', { deployment: null, imported: true })];

  it('explains what to pick until the selection makes a report', () => {
    expect(composePlan({ runIds: [], sweepIds: [], runs })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/Pick two runs/) });
    expect(composePlan({ runIds: ['a'], sweepIds: [], runs })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/at least one more run/) });
    expect(composePlan({ runIds: ['a'], sweepIds: ['g'], runs })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/not both/) });
    expect(composePlan({ runIds: [], sweepIds: ['g'], runs })).toMatchObject({ kind: 'none' });
    expect(composePlan({ runIds: [], sweepIds: ['g', 'h', 'i'], runs })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/Two sweeps at most/) });
  });

  it('makes two runs a comparison in the order picked, A first', () => {
    expect(composePlan({ runIds: ['a', 'b'], sweepIds: [], runs })).toEqual({ kind: 'compare', target: { compare: ['a', 'b'] }, a: 'a', b: 'b', sweeps: false, needsGpuA: false, needsGpuB: false });
  });

  it('makes two sweeps a sweep comparison and three runs one report of runs', () => {
    expect(composePlan({ runIds: [], sweepIds: ['g1', 'g2'], runs })).toMatchObject({ kind: 'compare', target: { compare: ['g1', 'g2'] }, sweeps: true });
    expect(composePlan({ runIds: ['a', 'b', 'c'], sweepIds: [], runs })).toEqual({ kind: 'runs', target: { runIds: ['a', 'b', 'c'] } });
  });

  it('asks for the GPU count of an imported side and passes a valid one on', () => {
    const plan = composePlan({ runIds: ['a', 'imp'], sweepIds: [], runs, gpuCountB: 2 });
    expect(plan).toMatchObject({ kind: 'compare', needsGpuA: false, needsGpuB: true, target: { compare: ['a', 'imp'], gpuCountB: 2 } });
    const bad = composePlan({ runIds: ['a', 'imp'], sweepIds: [], runs, gpuCountB: 0, gpuCountA: 4 });
    expect(bad.kind === 'compare' ? bad.target : null).toEqual({ compare: ['a', 'imp'] });
  });
});

describe('suggestPair', () => {
  it('pairs the newest disaggregated run with an aggregated one at the same load and engine', () => {
    const runs = [
      run('d-old', { createdAt: '2026-11-26T09:00:00Z' }),
      run('d-new', { createdAt: '2026-11-26T12:00:00Z', loadPoint: 'concurrency 8' }),
      agg('a-4', { createdAt: '2026-11-26T08:00:00Z' }),
      agg('a-real', { simulated: false, loadPoint: 'concurrency 8' }),
    ];
    expect(suggestPair(runs)?.map((r) => r.id)).toEqual(['a-4', 'd-old']);
    expect(suggestPair([run('d')])).toBeNull();
  });
});

function render(node: React.ReactNode, setup?: (store: ReturnType<typeof createAppStore>) => void): string {
  const store = createAppStore(idle, { page: 'reports' });
  setup?.(store);
  // Server rendering reads the initial state; make it the seeded one.
  store.getInitialState = store.getState;
  return renderToStaticMarkup(<AppStoreContext.Provider value={store}>{node}</AppStoreContext.Provider>);
}

describe('ReportsPage', () => {
  it('tells a newcomer with no runs what to do next, with buttons', () => {
    const html = render(<ReportsPage />, (s) => s.getState().setRuns([]));
    expect(html).toContain('data-testid="reports-empty"');
    expect(html).toContain('Nothing to report yet.');
    for (const id of ['reports-empty-bench', 'reports-empty-import', 'reports-empty-deploy']) expect(html).toContain(`data-testid="${id}"`);
    expect(html).not.toContain('coming-soon');
  });

  it('lists runs with their Export menu and labels simulated runs', () => {
    const html = render(<ReportsPage />, (s) => s.getState().setRuns([run('r1'), agg('r2', { simulated: false }), run('r3', { location: 'host', status: 'running', host: 'gpu1' })]));
    expect(html).toContain('data-testid="reports-run-export-r1"');
    expect(html).toContain('data-testid="reports-run-r1-simulated"');
    expect(html).not.toContain('data-testid="reports-run-r2-simulated"');
    expect(html).toContain('data-testid="reports-run-noexport-r3"');
    expect(html).toContain('data-testid="compose"');
  });
});

describe('ExportHistory', () => {
  const history: ReportHistoryList = {
    canOpen: false,
    reportsDir: '/home/u/.config/Handoff/reports',
    problem: null,
    entries: [
      {
        id: 'e1', exportedAt: '2026-11-26T10:00:00Z', format: 'html', title: 'Comparison: agg vs disagg', kind: 'compare', source: { compare: ['a', 'b'] },
        files: [{ path: '/home/u/.config/Handoff/reports/comparison.html', bytes: 2048, missing: false }], runIds: ['a', 'b'], simulated: true,
      },
      {
        id: 'e2', exportedAt: '2026-11-26T09:00:00Z', format: 'pdf', title: 'Benchmark: a', kind: 'runs', source: { runIds: ['a'] },
        files: [{ path: '/tmp/gone.pdf', bytes: 10, missing: true }], runIds: ['a'], simulated: false,
      },
    ],
  };

  it('shows path, format, source runs and the simulated label; Download in the browser, Open where the app can', () => {
    const html = render(<ExportHistory runs={[agg('a'), run('b')]} />, (s) => s.setState({ reportHistory: history }));
    expect(html).toContain('/home/u/.config/Handoff/reports/comparison.html');
    expect(html).toContain('data-testid="history-simulated-e1"');
    expect(html).not.toContain('data-testid="history-simulated-e2"');
    expect(html).toContain('data-testid="history-e1-download"');
    expect(html).toContain('data-testid="history-e2-missing"');
    expect(html).not.toContain('history-e1-open');
    const desktop = render(<ExportHistory runs={[]} />, (s) => s.setState({ reportHistory: { ...history, canOpen: true } }));
    expect(desktop).toContain('data-testid="history-e1-open"');
    expect(desktop).toContain('data-testid="history-e1-reveal"');
  });

  it('says plainly when the history file was repaired', () => {
    const html = render(<ExportHistory runs={[]} />, (s) => s.setState({ reportHistory: { ...history, entries: [], problem: 'The export history … was damaged' } }));
    expect(html).toContain('data-testid="history-problem"');
    expect(html).toContain('data-testid="history-empty"');
  });
});
