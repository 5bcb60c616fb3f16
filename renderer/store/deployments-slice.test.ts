import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiEventName, ApiMethodName, HandoffApi } from '../../common/api-contract';
import type { DeploymentSummary } from '../../common/deployment-view';
import { UserFacingError } from '../../common/errors';
import { sampleTask } from '../test-fixtures';
import { createAppStore } from './app-store';
import { LIVE_REDRAW_MS, startDeploymentsSync } from './deployments-slice';

afterEach(() => {
  vi.useRealTimers();
});

function fakeApi(answers: Partial<Record<ApiMethodName, (params: unknown) => unknown>>) {
  const listeners = new Map<string, Array<(data: unknown) => void>>();
  const calls: Array<[string, unknown]> = [];
  const api: HandoffApi = {
    call: async (method, params) => {
      calls.push([method, params]);
      const a = answers[method];
      if (!a) throw new UserFacingError('not-expected', `unexpected ${method}`);
      return a(params) as never;
    },
    on: (event, listener) => {
      const list = listeners.get(event) ?? [];
      list.push(listener as (data: unknown) => void);
      listeners.set(event, list);
      return () => listeners.set(event, (listeners.get(event) ?? []).filter((l) => l !== listener));
    },
  };
  const emit = (event: ApiEventName, data: unknown) => (listeners.get(event) ?? []).forEach((l) => l(data));
  return { api, calls, emit };
}

const summary = (over: Partial<DeploymentSummary> = {}): DeploymentSummary => ({
  id: 'pd-1',
  name: 'pd',
  simulated: true,
  engine: 'mocker',
  mode: 'disaggregated',
  model: 'm',
  hosts: ['this-computer'],
  endpoint: { host: 'this-computer', url: 'http://127.0.0.1:8181', openaiBaseUrl: 'http://127.0.0.1:8181/v1', model: 'm' },
  createdAt: '2026-01-01T00:00:00Z',
  stoppedAt: null,
  state: 'starting',
  error: null,
  processCount: 3,
  ...over,
});

describe('deployments slice', () => {
  it('applying a spec records the deployment and its deploy task', async () => {
    const task = sampleTask({ id: 'deploy-1', kind: 'deploy' });
    const { api, calls } = fakeApi({ 'deployments.apply': () => ({ deployment: summary(), task, warnings: [] }) });
    const store = createAppStore(api);
    const r = await store.getState().applySpec('apiVersion: handoff/v1', 'wizard.yaml');
    expect(r.ok).toBe(true);
    expect(calls).toEqual([['deployments.apply', { specText: 'apiVersion: handoff/v1', source: 'wizard.yaml' }]]);
    expect(store.getState().deployTaskIds['pd-1']).toBe('deploy-1');
    expect(store.getState().tasks['deploy-1']).toEqual(task);
    expect(store.getState().deployments.map((d) => d.id)).toEqual(['pd-1']);
  });

  it('hands back a spec the controller refuses as an error, with its problems', async () => {
    const problems = [{ code: 'gpu-busy', severity: 'error', message: 'GPU 1 is used by another deployment.' }];
    const { api } = fakeApi({ 'deployments.apply': () => Promise.reject(new UserFacingError('spec-invalid', 'The spec cannot be deployed', { problems })) });
    const r = await createAppStore(api).getState().applySpec('x');
    expect(r).toEqual({ ok: false, error: { code: 'spec-invalid', message: 'The spec cannot be deployed', details: { problems } } });
  });

  it('keeps an open view\'s header in step with the list events', async () => {
    const { api, emit } = fakeApi({
      'deployments.status': () => ({ ...summary(), processes: [], unreachable: [], plan: {} }),
    });
    const store = createAppStore(api);
    const stop = startDeploymentsSync(store, api);
    await store.getState().loadDeployment('pd-1');
    emit('deployments.changed', [summary({ state: 'ready' })]);
    expect(store.getState().deployments[0]?.state).toBe('ready');
    expect(store.getState().deploymentViews['pd-1']?.state).toBe('ready');
    stop();
  });

  it('puts samples and followed log lines in the buffers and bumps their versions at most once per redraw interval', async () => {
    vi.useFakeTimers();
    const { api, emit, calls } = fakeApi({
      'deployments.logs': () => ({ logs: [{ process: 'router', host: 'h', file: '/r.log', lines: ['listening'] }], followId: 'f1' }),
      'deployments.unfollow': () => ({ ok: true }),
    });
    const store = createAppStore(api);
    const stopSync = startDeploymentsSync(store, api);
    for (let s = 0; s < 20; s++) {
      emit('deployments.sample', { id: 'pd-1', host: 'h', at: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString(), perProcess: { router: { requestsPerS: s } } });
    }
    expect(store.getState().chartsVersion).toBe(0);
    vi.advanceTimersByTime(LIVE_REDRAW_MS);
    expect(store.getState().chartsVersion).toBe(1);
    expect(store.getState().live.series.get('pd-1')?.samples).toBe(20);

    const follow = await store.getState().followLogs('pd-1');
    expect(follow.ok).toBe(true);
    const before = store.getState().logsVersion;
    for (let i = 0; i < 50; i++) emit('deployments.log', { followId: 'f1', id: 'pd-1', process: 'router', host: 'h', line: `req ${i}`, at: '' });
    emit('deployments.log', { followId: 'someone-else', id: 'pd-1', process: 'router', host: 'h', line: 'not ours', at: '' });
    vi.advanceTimersByTime(LIVE_REDRAW_MS);
    expect(store.getState().logsVersion).toBe(before + 1);
    const lines = store.getState().live.logs.lines('pd-1', null, 100).map((l) => l.line);
    expect(lines).toHaveLength(51);
    expect(lines).not.toContain('not ours');
    if (follow.ok) follow.value();
    expect(calls.at(-1)).toEqual(['deployments.unfollow', { followId: 'f1' }]);
    stopSync();
  });

  it('stops a watch it started, and says why one could not start', async () => {
    const { api, calls } = fakeApi({
      'deployments.watch': () => ({ watchId: 'w1', intervalMs: 1000 }),
      'deployments.unwatch': () => ({ ok: true }),
    });
    const store = createAppStore(api);
    const w = await store.getState().watchDeployment('pd-1');
    expect(w.ok).toBe(true);
    if (w.ok) w.value();
    expect(calls.map((c) => c[0])).toEqual(['deployments.watch', 'deployments.unwatch']);
    const failing = fakeApi({ 'deployments.watch': () => Promise.reject(new UserFacingError('deployment-stopped', 'It is stopped.')) });
    expect(await createAppStore(failing.api).getState().watchDeployment('x')).toEqual({ ok: false, error: { code: 'deployment-stopped', message: 'It is stopped.' } });
  });
});
