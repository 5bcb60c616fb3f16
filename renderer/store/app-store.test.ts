import { describe, expect, it } from 'vitest';
import type { ApiMethodName, HandoffApi } from '../../common/api-contract';
import { UserFacingError } from '../../common/errors';
import { sampleHost, sampleTask } from '../test-fixtures';
import { createAppStore } from './app-store';
import { mergeTask } from './tasks-slice';

function apiAnswering(answers: Partial<Record<ApiMethodName, (params: unknown) => unknown>>): HandoffApi & { calls: Array<[string, unknown]> } {
  const calls: Array<[string, unknown]> = [];
  return {
    calls,
    call: async (method, params) => {
      calls.push([method, params]);
      const a = answers[method];
      if (!a) throw new UserFacingError('not-expected', `unexpected ${method}`);
      return a(params) as never;
    },
    on: () => () => {},
  };
}

describe('app store', () => {
  it('adding a host records it, its task, and which task belongs to it', async () => {
    const task = sampleTask({ id: 'add-1' });
    const api = apiAnswering({ 'hosts.add': () => ({ host: sampleHost('gpu1', { state: 'checking' }), task }) });
    const store = createAppStore(api);
    const r = await store.getState().addHost({ kind: 'ssh', name: 'gpu1', target: { host: 'h' } });
    expect(r.ok).toBe(true);
    const s = store.getState();
    expect(s.hosts.map((h) => h.config.name)).toEqual(['gpu1']);
    expect(s.tasks['add-1']).toEqual(task);
    expect(s.hostTaskIds.gpu1).toBe('add-1');
  });

  it('hands back the controller error rather than throwing', async () => {
    const api = apiAnswering({ 'hosts.remove': () => Promise.reject(new UserFacingError('host-not-found', 'No host x.')) });
    const store = createAppStore(api);
    expect(await store.getState().removeHost('x')).toEqual({ ok: false, error: { code: 'host-not-found', message: 'No host x.' } });
  });

  it('sends trust answers and cancels through the task API', async () => {
    const api = apiAnswering({
      'tasks.answer': () => sampleTask({ id: 'a', state: 'running' }),
      'tasks.cancel': () => sampleTask({ id: 'a', state: 'cancelled' }),
    });
    const store = createAppStore(api);
    await store.getState().answerTask('a', { kind: 'trust-host-key', trust: true });
    await store.getState().cancelTask('a');
    expect(api.calls).toEqual([
      ['tasks.answer', { id: 'a', answer: { kind: 'trust-host-key', trust: true } }],
      ['tasks.cancel', { id: 'a' }],
    ]);
    // The first reply seeds the unknown task; later state comes from task.updated events.
    expect(store.getState().tasks.a?.state).toBe('running');
  });

  it('keeps newer event state when a reply carries an older snapshot of the same task', async () => {
    const started = sampleTask({ id: 'add-2', state: 'running' });
    const asking = sampleTask({ id: 'add-2', state: 'needs-input', prompt: { kind: 'passphrase', keyFile: '/k' } });
    const api = apiAnswering({
      'hosts.add': () => {
        // The controller publishes the prompt before its reply (holding the start snapshot) goes out.
        store.getState().upsertTask(asking);
        store.getState().setHosts([sampleHost('gpu2', { state: 'checking' })]);
        return { host: sampleHost('gpu2', { state: 'unknown' }), task: started };
      },
    });
    const store = createAppStore(api);
    await store.getState().addHost({ kind: 'ssh', name: 'gpu2', target: { host: 'h' } });
    expect(store.getState().tasks['add-2']).toEqual(asking);
    expect(store.getState().hosts.map((h) => h.state)).toEqual(['checking']);
    expect(store.getState().hostTaskIds.gpu2).toBe('add-2');
  });

  it('never lets a stale snapshot revive a finished task', () => {
    const done = sampleTask({ state: 'succeeded' });
    expect(mergeTask(done, sampleTask({ state: 'running' }))).toBe(done);
    const failed = sampleTask({ state: 'failed' });
    expect(mergeTask(sampleTask(), failed)).toBe(failed);
  });
});
