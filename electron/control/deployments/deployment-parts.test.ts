import { describe, expect, it } from 'vitest';
import { DeploymentSpec, planDeployment, type DeploymentPlan, type DeploymentSpecInput } from '../../../common/deployment';
import { hostFacts, SEED_MODEL } from '../../../common/deployment/testing-hosts';
import type { DeploymentRecord } from '../../../common/deployment-view';
import { heldResources, hostsNamedBy, launchesFor, mergeStates, newDeploymentId, resolveDeployment, splitPlan } from './deployment-parts';

function planOf(input: Partial<DeploymentSpecInput>): DeploymentPlan {
  const spec = DeploymentSpec.parse({ apiVersion: 'handoff/v1', name: 'pd', model: SEED_MODEL, engine: 'vllm', mode: 'disaggregated', ...input });
  const r = planDeployment(spec, { 'this-computer': hostFacts(), 'gpu-a': hostFacts(), 'gpu-b': hostFacts(), 'gpu-c': hostFacts() }, {
    busyGpus: {},
    usedPorts: {},
    agentCommand: ['@handoff-agent'],
    hostAddresses: { 'gpu-a': '10.0.0.1', 'gpu-b': '10.0.0.2', 'gpu-c': '10.0.0.3' },
  });
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

const twoHosts = (routerHost: string) =>
  planOf({
    workers: [
      { name: 'prefill', role: 'prefill', host: 'gpu-a', gpus: [0] },
      { name: 'decode', role: 'decode', host: 'gpu-b', tp: 2, gpus: [0, 1] },
    ],
    router: { host: routerHost },
  });

function record(over: Partial<DeploymentRecord> & { plan: DeploymentPlan }): DeploymentRecord {
  return {
    id: 'pd-000000',
    name: 'pd',
    simulated: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    stoppedAt: null,
    source: null,
    spec: {},
    parts: splitPlan(over.plan, over.id ?? 'pd-000000'),
    state: 'ready',
    error: null,
    ...over,
  };
}

describe('splitting a plan per host', () => {
  it('runs a single-host deployment as one agent deployment that orders its own processes', () => {
    const plan = planOf({ workers: [{ role: 'prefill', gpus: [0] }, { role: 'decode', tp: 2, gpus: [1, 2] }] });
    const parts = splitPlan(plan, 'pd-abc123');
    expect(parts).toEqual([{ host: 'this-computer', agentDeploymentId: 'pd-abc123', processes: ['prefill-0', 'decode-0', 'router'], phase: 0 }]);
    const router = launchesFor(plan, parts[0]!).find((l) => l.name === 'router');
    expect(router?.dependsOn).toEqual(['prefill-0', 'decode-0']);
  });

  it('holds back a router that needs workers on another host, as a second agent deployment on its host', () => {
    const parts = splitPlan(twoHosts('gpu-a'), 'pd-abc123');
    expect(parts).toEqual([
      { host: 'gpu-a', agentDeploymentId: 'pd-abc123', processes: ['prefill-0'], phase: 0 },
      { host: 'gpu-b', agentDeploymentId: 'pd-abc123', processes: ['decode-0'], phase: 0 },
      { host: 'gpu-a', agentDeploymentId: 'pd-abc123-router', processes: ['router'], phase: 1 },
    ]);
  });

  it('gives a router alone on its host the deployment id, started last', () => {
    const parts = splitPlan(twoHosts('gpu-c'), 'pd-abc123');
    expect(parts.at(-1)).toEqual({ host: 'gpu-c', agentDeploymentId: 'pd-abc123', processes: ['router'], phase: 1 });
  });

  it('leaves dependencies on other hosts out of what an agent is told, since the controller orders those', () => {
    const plan = twoHosts('gpu-a');
    const parts = splitPlan(plan, 'x');
    const router = launchesFor(plan, parts[2]!)[0]!;
    expect(router.dependsOn).toEqual([]);
    expect(router.argv.slice(0, 2)).toEqual(['@handoff-agent', 'router']);
    expect(router.argv).toContain('http://10.0.0.2:8200');
    const decode = launchesFor(plan, parts[1]!)[0]!;
    expect(decode.readiness.url).toBe('http://10.0.0.2:8200/health');
    expect(decode.env).toMatchObject({ CUDA_VISIBLE_DEVICES: '0,1', VLLM_NIXL_SIDE_CHANNEL_HOST: '10.0.0.2' });
  });
});

describe('resources held by existing deployments', () => {
  it('counts ports of running deployments and GPUs only of real ones', () => {
    const real = record({ id: 'a', plan: planOf({ workers: [{ role: 'prefill', gpus: [0] }, { role: 'decode', gpus: [1] }] }) });
    const sim = record({ id: 'b', simulated: true, plan: planOf({ engine: 'mocker', workers: [{ role: 'prefill', gpus: [2], port: 9100 }, { role: 'decode', gpus: [3], port: 9200 }], router: { port: 9181 } }) });
    const stopped = record({ id: 'c', stoppedAt: '2026-01-02T00:00:00.000Z', plan: planOf({ workers: [{ role: 'prefill', gpus: [3], port: 7100 }, { role: 'decode', gpus: [2], port: 7200 }], router: { port: 7181 } }) });
    const held = heldResources([real, sim, stopped]);
    expect(held.busyGpus['this-computer']?.sort()).toEqual([0, 1]);
    expect(held.usedPorts['this-computer']).toEqual(expect.arrayContaining([8100, 8200, 8181, 9100, 9200, 9181]));
    expect(held.usedPorts['this-computer']).not.toContain(7181);
  });
});

describe('merging the states of a deployment’s hosts', () => {
  it('is ready only when every part is ready', () => {
    expect(mergeStates(['ready', 'ready'])).toBe('ready');
    expect(mergeStates(['ready', 'starting'])).toBe('starting');
  });
  it('lets a failure win over everything but a teardown in progress', () => {
    expect(mergeStates(['ready', 'failed', 'degraded'])).toBe('failed');
    expect(mergeStates(['failed', 'stopping'])).toBe('stopping');
  });
  it('says unknown when a host cannot be asked and nothing is known to be wrong', () => {
    expect(mergeStates(['ready', null])).toBe('unknown');
    expect(mergeStates(['degraded', null])).toBe('degraded');
  });
  it('calls a deployment with some hosts stopped and others serving degraded', () => {
    expect(mergeStates(['stopped', 'ready'])).toBe('degraded');
    expect(mergeStates(['stopped', 'stopped'])).toBe('stopped');
  });
});

describe('finding a deployment from what a person typed', () => {
  const plan = planOf({ engine: 'mocker', workers: [{ role: 'prefill' }, { role: 'decode' }] });
  const recs = [
    record({ id: 'seed-aaaaaa', name: 'seed', plan, createdAt: '2026-01-01T00:00:00.000Z', stoppedAt: '2026-01-01T01:00:00.000Z' }),
    record({ id: 'seed-bbbbbb', name: 'seed', plan, createdAt: '2026-01-02T00:00:00.000Z' }),
    record({ id: 'other-cccccc', name: 'other', plan, createdAt: '2026-01-03T00:00:00.000Z' }),
    record({ id: 'other-cddddd', name: 'other', plan, createdAt: '2026-01-04T00:00:00.000Z' }),
  ];
  it('takes an exact id, a unique prefix, or the name of the running deployment', () => {
    expect(resolveDeployment(recs, 'seed-aaaaaa').id).toBe('seed-aaaaaa');
    expect(resolveDeployment(recs, 'other-cd').id).toBe('other-cddddd');
    expect(resolveDeployment(recs, 'seed').id).toBe('seed-bbbbbb');
  });
  it('prefers the running one of several ids sharing a prefix', () => {
    expect(resolveDeployment(recs, 'seed-').id).toBe('seed-bbbbbb');
  });
  it('refuses an ambiguous name and lists the candidates', () => {
    expect(() => resolveDeployment(recs, 'other')).toThrow(/matches 2 deployments.*other-cddddd.*other-cccccc/);
  });
  it('names recent deployments when nothing matches', () => {
    expect(() => resolveDeployment(recs, 'nope')).toThrow(/No deployment matches "nope".*other-cddddd/);
  });
});

describe('ids and hosts', () => {
  it('makes ids from the name that the agent accepts as directory names', () => {
    const id = newDeploymentId('mocker-disaggregated');
    expect(id).toMatch(/^mocker-disaggregated-[0-9a-f]{6}$/);
  });
  it('lists every host a spec names, defaulting to this computer', () => {
    expect(hostsNamedBy({ workers: [{}, { host: 'gpu-b' }], router: { host: 'gpu-c' } }, 'this-computer')).toEqual(['this-computer', 'gpu-b', 'gpu-c']);
  });
});
