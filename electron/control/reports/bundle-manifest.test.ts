import { describe, expect, it } from 'vitest';
import type { RunJson } from '../../../common/run-record';
import { planRerun, rerunWorkload, type BundleRun } from './bundle-manifest';

function run(workload: RunJson['workload'], over: Partial<RunJson> = {}): RunJson {
  return {
    schema: 1, id: 'r1', name: 'r', group: null, status: 'complete', simulated: true, imported: false,
    tool: { name: 'builtin', version: '0.1.0' }, versions: {}, deployment: null, hosts: [],
    timings: { createdAt: 'x', startedAt: null, finishedAt: null, originEpochNs: null }, workload, artifacts: [], notes: [], ...over,
  };
}

const seed = { endpointType: 'chat', streaming: true, model: 'm', tokenizer: 'm', concurrency: 10, requestRate: null, arrival: null, requestCount: 40, warmupRequestCount: 10, durationS: null, islMean: 3000, islStddev: 0, oslMean: 150, oslStddev: 0, randomSeed: 123, goodput: null };

function bundleRun(id: string, w: RunJson['workload'], tool = 'builtin'): BundleRun {
  const r = run(w, { id, tool: { name: tool as RunJson['tool']['name'], version: null } });
  const { workload, note } = rerunWorkload(r);
  return { id, name: id, group: 'g', dir: `runs/${id}`, status: 'complete', simulated: true, imported: false, tool, toolVersion: null, deployment: null, recordedWorkload: w, workload, workloadNote: note };
}

describe('re-run manifest', () => {
  it('turns the seed workload back into what runs.start takes, with exact output length and no model', () => {
    const { workload, note } = rerunWorkload(run(seed));
    expect(workload).toEqual({ endpointType: 'chat', streaming: true, islMean: 3000, islStddev: 0, oslMean: 150, oslStddev: 0, minTokens: 150, maxTokens: 150, ignoreEos: true, concurrency: 10, requestCount: 40, warmupRequestCount: 10, randomSeed: 123 });
    expect(note).toMatch(/exactly/);
  });

  it('prefers the workload as it was asked for when run.json keeps it', () => {
    const asked = { preset: 'seed', model: 'x', concurrency: 3 };
    expect(rerunWorkload(run(seed), { workloadInput: asked }).workload).toEqual({ preset: 'seed', concurrency: 3 });
  });

  it('cannot re-run an imported vllm bench run, and says so', () => {
    const r = rerunWorkload(run(seed, { tool: { name: 'vllm-bench', version: null }, imported: true }));
    expect(r.workload).toBeNull();
    expect(r.note).toMatch(/vllm bench serve/);
  });

  it('plans a sweep over concurrency for runs that differ only in concurrency', () => {
    const runs = [4, 1, 2].map((c) => bundleRun(`r${c}`, { ...seed, concurrency: c }));
    const { plan } = planRerun(runs, 'Sweep');
    expect(plan?.concurrencies).toEqual([1, 2, 4]);
    expect(plan?.workload.concurrency).toBeUndefined();
    expect(plan?.tool).toBe('builtin');
  });

  it('plans one run for two identical sides of a comparison', () => {
    const { plan } = planRerun([bundleRun('a', seed), bundleRun('b', seed)], 'Compare');
    expect(plan?.concurrencies).toBeUndefined();
    expect(plan?.workload.concurrency).toBe(10);
    expect(plan?.runIds).toEqual(['a', 'b']);
  });

  it('plans a sweep over request rates', () => {
    const runs = [5, 2].map((r) => bundleRun(`r${r}`, { ...seed, concurrency: null, requestRate: r, arrival: 'poisson' }));
    expect(planRerun(runs, 't').plan?.requestRates).toEqual([2, 5]);
  });

  it('refuses to merge runs with different workloads or tools, asking for --run', () => {
    expect(planRerun([bundleRun('a', seed), bundleRun('b', { ...seed, islMean: 100 })], 't').note).toMatch(/--run/);
    expect(planRerun([bundleRun('a', seed), bundleRun('b', seed, 'aiperf')], 't').note).toMatch(/--run/);
  });
});
