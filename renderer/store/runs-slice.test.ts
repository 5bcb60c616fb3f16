import { describe, expect, it } from 'vitest';
import type { ApiEventName, ApiMethodName, HandoffApi } from '../../common/api-contract';
import type { RunSummary } from '../../common/run-view';
import { sampleTask } from '../test-fixtures';
import { createAppStore } from './app-store';
import { startRunsSync } from './runs-slice';

function fakeApi(answers: Partial<Record<ApiMethodName, (params: unknown) => unknown>>) {
  const calls: Array<[string, unknown]> = [];
  const listeners = new Map<string, (data: unknown) => void>();
  const api: HandoffApi = {
    call: async (method, params) => {
      calls.push([method, params]);
      return answers[method]!(params) as never;
    },
    on: (event, l) => {
      listeners.set(event, l as (data: unknown) => void);
      return () => listeners.delete(event);
    },
  };
  return { api, calls, emit: (e: ApiEventName, d: unknown) => listeners.get(e)?.(d) };
}

function summary(id: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    id, name: id, group: null, status: 'complete', location: 'local', host: null, tool: 'builtin', imported: false, simulated: true,
    deployment: null, deploymentId: null, createdAt: '2026-01-01T00:00:00Z', finishedAt: null, workload: {}, loadPoint: null,
    headline: null, progress: null, taskId: null, problem: null, ...over,
  };
}

describe('runs slice', () => {
  it('starts one load point with runs.start and several with runs.sweep, and remembers the launch', async () => {
    const task = sampleTask({ id: 't1' });
    const { api, calls } = fakeApi({
      'runs.start': () => ({ runIds: ['r1'], group: null, task }),
      'runs.sweep': () => ({ runIds: ['r2', 'r3'], group: 'g1', task: { ...task, id: 't2' } }),
      'runs.list': () => [],
    });
    const store = createAppStore(api);
    await store.getState().startBench({ deployment: 'd', workload: { preset: 'seed' }, concurrencies: [10] });
    expect(calls[0]).toEqual(['runs.start', { deployment: 'd', workload: { preset: 'seed', concurrency: 10 } }]);
    expect(store.getState().benchLaunch).toEqual({ taskId: 't1', runIds: ['r1'], group: null, deployment: 'd' });
    expect(store.getState().tasks.t1).toBeDefined();
    await store.getState().startBench({ deployment: 'd', workload: {}, concurrencies: [1, 4] });
    expect(calls.find((c) => c[0] === 'runs.sweep')?.[1]).toEqual({ deployment: 'd', workload: {}, concurrencies: [1, 4] });
    expect(store.getState().benchLaunch?.group).toBe('g1');
  });

  it('forgets a run\'s detail and chart data when the list says it changed, so the view reads it again', async () => {
    const { api, emit } = fakeApi({
      'runs.get': () => ({ summary: summary('r1', { status: 'running', location: 'host' }), run: null, metrics: null, metricsSource: null, import: null, kvTransfer: [], traceTtft: null, files: [], dir: null }),
    });
    const store = createAppStore(api);
    startRunsSync(store, api);
    await store.getState().loadRun('r1');
    expect(store.getState().runDetails.r1).toBeDefined();
    emit('runs.changed', [summary('r1', { status: 'running', location: 'host' })]);
    expect(store.getState().runDetails.r1).toBeDefined();
    emit('runs.changed', [summary('r1')]);
    expect(store.getState().runDetails.r1).toBeUndefined();
    expect(store.getState().runs.map((r) => r.id)).toEqual(['r1']);
  });

  it('drops deleted runs from the list and the caches', async () => {
    const { api } = fakeApi({ 'runs.delete': () => ({ deleted: ['r1', 'r2'] }), 'runs.list': () => [summary('r1'), summary('r2'), summary('r3')] });
    const store = createAppStore(api);
    await store.getState().loadRuns();
    expect(await store.getState().deleteRun('g')).toEqual({ ok: true, value: ['r1', 'r2'] });
    expect(store.getState().runs.map((r) => r.id)).toEqual(['r3']);
  });
});
