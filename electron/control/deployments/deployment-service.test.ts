import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeployApplyParams, type DeploymentStatus, type ProcessStatus } from '../../../common/deploy-rpc';
import { hostFacts } from '../../../common/deployment/testing-hosts';
import { DeployTaskResult } from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';
import type { HostInfo, HostStatus } from '../../../common/host';
import { encodeRpc, parseRpcLine } from '../../../common/jsonrpc';
import { RpcClient } from '../../../common/rpc-client';
import type { Task } from '../../../common/task';
import type { AgentConnection } from '../agent/agent-attach';
import { TaskRunner } from '../tasks/task-runner';
import { DeploymentService, type DeploymentHosts } from './deployment-service';

/**
 * The service against in-memory agents that speak the real deploy.* RPC schemas (every message
 * goes through RpcClient and common/deploy-rpc.ts). The real agent, supervisor and processes are
 * exercised by e2e/deploy.itest.ts.
 */

type Behaviour = 'ready' | 'never-ready' | { fail: string; lines: string[] };

interface AppliedPart {
  host: string;
  params: DeployApplyParams;
  at: number;
  procs: ProcessStatus[];
  state: DeploymentStatus['state'];
}

class FakeAgents implements DeploymentHosts {
  readonly log: string[] = [];
  readonly applied = new Map<string, AppliedPart>();
  readonly behaviour = new Map<string, Behaviour>();
  readonly unreachable = new Set<string>();
  readonly clients = new Map<string, RpcClient>();
  private seq = 0;

  constructor(private readonly statuses: HostStatus[]) {}

  async list(): Promise<HostStatus[]> {
    return this.statuses;
  }
  async check(): Promise<Task> {
    throw new Error('no checks in these tests');
  }
  async session() {
    return null;
  }

  async agent(name: string): Promise<AgentConnection> {
    if (this.unreachable.has(name)) throw new UserFacingError('host-unreachable', `Cannot connect to ${name}.`);
    const live = this.clients.get(name);
    if (live && !live.closed) return conn(live, name);
    const client: RpcClient = new RpcClient({ write: (line) => queueMicrotask(() => this.serve(name, client, line)), peerName: name });
    this.clients.set(name, client);
    return conn(client, name);
  }

  /** Simulates a dropped SSH connection: the controller must reconnect. */
  drop(name: string): void {
    this.clients.get(name)?.handleClose(new Error('connection reset'));
  }

  private key(host: string, id: string) {
    return `${host}/${id}`;
  }

  private status(p: AppliedPart): DeploymentStatus {
    return {
      deploymentId: p.params.deploymentId,
      name: p.params.name,
      simulated: p.params.simulated,
      state: p.state,
      error: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      stoppedAt: null,
      dir: `/home/u/.handoff/deployments/${p.params.deploymentId}`,
      spec: p.params.spec,
      processes: p.procs,
    };
  }

  private serve(host: string, client: RpcClient, line: string): void {
    if (client.closed) return;
    const m = parseRpcLine(line);
    if (m.kind !== 'request') return;
    const reply = (result: unknown) => client.receive(encodeRpc({ jsonrpc: '2.0', id: m.msg.id, result }));
    const error = (code: string, message: string) => client.receive(encodeRpc({ jsonrpc: '2.0', id: m.msg.id, error: { code: -32000, message, data: { code, message } } }));
    const notify = (method: string, params: unknown) => client.receive(encodeRpc({ jsonrpc: '2.0', method, params }));
    const params = m.msg.params as { deploymentId?: string };
    const part = params.deploymentId ? this.applied.get(this.key(host, params.deploymentId)) : undefined;
    switch (m.msg.method) {
      case 'deploy.apply': {
        const p = DeployApplyParams.parse(m.msg.params);
        this.log.push(`apply ${host} ${p.deploymentId} [${p.processes.map((x) => x.name).join(',')}]`);
        const procs = p.processes.map((l) => proc(l.name, l.role, l.port));
        const a: AppliedPart = { host, params: p, at: ++this.seq, procs, state: 'starting' };
        this.applied.set(this.key(host, p.deploymentId), a);
        reply({ deploymentId: p.deploymentId, state: 'starting', deployment: this.status(a) });
        setTimeout(() => {
          for (const pr of a.procs) {
            if (a.state === 'stopped') return;
            const b = this.behaviour.get(pr.name) ?? 'ready';
            if (b === 'never-ready') {
              pr.state = 'loading';
            } else if (b === 'ready') {
              pr.state = 'ready';
              pr.pid = 1000 + this.seq++;
              this.log.push(`ready ${host} ${pr.name}`);
            } else {
              pr.state = 'failed';
              pr.detail = b.fail;
              pr.lastLogLines = b.lines;
            }
            notify('deploy.progress', { deploymentId: p.deploymentId, process: pr.name, phase: pr.state === 'ready' ? 'ready' : pr.state === 'failed' ? 'failed' : 'loading', deploymentState: 'starting', at: new Date().toISOString() });
          }
          a.state = a.procs.every((x) => x.state === 'ready') ? 'ready' : a.procs.some((x) => x.state === 'failed') ? 'failed' : 'starting';
        }, 5);
        return;
      }
      case 'deploy.status':
        if (!part) return error('unknown-deployment', `This host has no deployment "${params.deploymentId}".`);
        return reply({ deployments: [this.status(part)] });
      case 'deploy.teardown':
        if (!part) return error('unknown-deployment', `This host has no deployment "${params.deploymentId}".`);
        this.log.push(`teardown ${host} ${part.params.deploymentId}`);
        part.state = 'stopped';
        for (const pr of part.procs) pr.state = 'stopped';
        return reply({ deploymentId: part.params.deploymentId, state: 'stopped', killed: [], removedPaths: [] });
      case 'logs.tail':
        if (!part) return error('unknown-deployment', 'no such deployment');
        return reply({ logs: part.procs.map((pr) => ({ process: pr.name, file: `/logs/${pr.name}.log`, lines: [`${pr.name} says hello`] })), followId: null });
      default:
        return error('unknown-method', m.msg.method);
    }
  }
}

function conn(rpc: RpcClient, name: string): AgentConnection {
  return { rpc, hello: { protocol: 1, agentVersion: 'test', pid: 1, startedAt: '', home: `/home/${name}/.handoff` }, replacedVersion: null, close: () => rpc.close() };
}

function proc(name: string, role: ProcessStatus['role'], port: number): ProcessStatus {
  return {
    name,
    role,
    state: 'starting',
    pid: null,
    pgid: null,
    startTime: null,
    startedAt: null,
    readyAt: null,
    exitedAt: null,
    exitCode: null,
    signal: null,
    exitKnown: true,
    restarts: 0,
    lastLogLines: [],
    detail: null,
    port,
    readinessUrl: `http://127.0.0.1:${port}/health`,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    logFile: `/logs/${name}.log`,
    adopted: false,
  };
}

function hostStatus(name: string, address: string | null, info: HostInfo | null = hostFacts()): HostStatus {
  const config = address === null ? { kind: 'local' as const, name, addedAt: '' } : { kind: 'ssh' as const, name, target: { host: address }, addedAt: '' };
  return { config, state: 'connected', info, checkedAt: '' };
}

const MOCKER_PD = `apiVersion: handoff/v1
name: pd
model: deepseek-ai/DeepSeek-R1-Distill-Llama-8B
engine: mocker
mode: disaggregated
workers:
  - role: prefill
    host: gpu-a
    gpus: [0]
  - role: decode
    host: gpu-b
    gpus: [0]
router:
  host: gpu-a
`;

const REAL_LOCAL = `apiVersion: handoff/v1
name: real
model: deepseek-ai/DeepSeek-R1-Distill-Llama-8B
engine: vllm
mode: aggregated
workers:
  - gpus: [1]
`;

describe('DeploymentService', () => {
  let home: string;
  let tasks: TaskRunner;
  let agents: FakeAgents;
  let svc: DeploymentService;

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-deploy-svc-'));
    tasks = new TaskRunner();
    agents = new FakeAgents([hostStatus('this-computer', null), hostStatus('gpu-a', '10.0.0.1'), hostStatus('gpu-b', '10.0.0.2')]);
    svc = new DeploymentService({ home, hosts: agents, tasks, pollMs: 20 });
  });
  afterEach(async () => {
    await svc.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  it('starts the workers on every host before the router that reaches them, then reports the endpoint', async () => {
    const { deployment, task } = await svc.apply({ specText: MOCKER_PD, source: 'pd.yaml' });
    expect(deployment.simulated).toBe(true);
    const done = await tasks.wait(task.id);
    expect(done.error).toBeUndefined();
    const result = DeployTaskResult.parse(done.result);
    expect(result.endpoint).toMatchObject({ host: 'gpu-a', openaiBaseUrl: 'http://127.0.0.1:8181/v1' });
    const routerApply = agents.log.indexOf(`apply gpu-a ${deployment.id}-router [router]`);
    expect(routerApply).toBeGreaterThan(agents.log.indexOf('ready gpu-b decode-0'));
    expect(routerApply).toBeGreaterThan(agents.log.indexOf('ready gpu-a prefill-0'));
    expect(done.steps.map((s) => [s.id, s.state])).toEqual([
      ['apply', 'done'],
      ['prefill-0', 'done'],
      ['decode-0', 'done'],
      ['router', 'done'],
    ]);
    const saved = JSON.parse(await fs.readFile(path.join(home, 'deployments.json'), 'utf8')) as { deployments: Array<{ id: string; state: string; simulated: boolean }> };
    expect(saved.deployments).toEqual([expect.objectContaining({ id: deployment.id, state: 'ready', simulated: true })]);
  });

  it('puts every process in the deployment directory the host’s agent home gives', async () => {
    const out = await svc.plan({ specText: MOCKER_PD });
    expect(out.ok).toBe(true);
    expect(out.plan?.processes.find((p) => p.name === 'decode-0')?.cwd).toBe(`/home/gpu-b/.handoff/deployments/${out.id}`);
    expect(out.text).toContain('@handoff-agent router');
    expect(agents.log).toEqual([]);
  });

  it('refuses an invalid spec before anything starts, with each problem’s line', async () => {
    const bad = MOCKER_PD.replace('host: gpu-b', 'host: gpu-z').replace('mode: disaggregated', 'mode: disaggregated\ncolour: blue');
    const err = await svc.apply({ specText: bad, source: 'bad.yaml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserFacingError);
    expect((err as UserFacingError).code).toBe('spec-invalid');
    expect((err as UserFacingError).message).toMatch(/^bad\.yaml:6:1: error \[spec-invalid\]/m);
    const plan = await svc.plan({ specText: MOCKER_PD.replace('host: gpu-b', 'host: gpu-z'), source: 'bad.yaml' });
    expect(plan.problems).toEqual([expect.objectContaining({ code: 'unknown-host', line: 11, column: 5 })]);
    expect(agents.log).toEqual([]);
  });

  it('fails the deploy with the failed worker’s last log lines and stops everything it started', async () => {
    agents.behaviour.set('decode-0', { fail: 'exited with code 1 during start', lines: ['Traceback (most recent call last):', 'RuntimeError: CUDA out of memory'] });
    const { deployment, task } = await svc.apply({ specText: MOCKER_PD });
    const done = await tasks.wait(task.id);
    expect(done.state).toBe('failed');
    expect(done.error?.message).toContain('decode-0 on gpu-b failed: exited with code 1 during start');
    expect(done.error?.message).toContain('RuntimeError: CUDA out of memory');
    expect(done.error?.message).toContain(`handoff logs ${deployment.id}`);
    expect(agents.log).toContain(`teardown gpu-a ${deployment.id}`);
    expect(agents.log).toContain(`teardown gpu-b ${deployment.id}`);
    expect(agents.log.some((l) => l.includes('-router'))).toBe(false);
    const [summary] = await svc.list();
    expect(summary).toMatchObject({ state: 'stopped', error: expect.stringContaining('CUDA out of memory') });
  });

  it('tears down what it started when the deploy task is cancelled', async () => {
    agents.behaviour.set('decode-0', 'never-ready');
    const { deployment, task } = await svc.apply({ specText: MOCKER_PD });
    await new Promise((r) => setTimeout(r, 50));
    tasks.cancel(task.id);
    const done = await tasks.wait(task.id);
    expect(done.state).toBe('cancelled');
    expect(agents.log).toEqual(expect.arrayContaining([`teardown gpu-a ${deployment.id}`, `teardown gpu-b ${deployment.id}`]));
    expect((await svc.list())[0]?.state).toBe('stopped');
  });

  it('keeps following a deploy across a dropped agent connection', async () => {
    agents.behaviour.set('decode-0', 'never-ready');
    const { task } = await svc.apply({ specText: MOCKER_PD });
    await new Promise((r) => setTimeout(r, 50));
    agents.drop('gpu-b');
    agents.behaviour.set('decode-0', 'ready');
    const part = [...agents.applied.values()].find((a) => a.host === 'gpu-b')!;
    part.procs[0]!.state = 'ready';
    part.state = 'ready';
    const done = await tasks.wait(task.id);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('succeeded');
  });

  it('merges the hosts’ status and shows the processes of an unreachable host as unknown', async () => {
    const { deployment, task } = await svc.apply({ specText: MOCKER_PD });
    await tasks.wait(task.id);
    expect((await svc.status('pd')).state).toBe('ready');
    agents.drop('gpu-b');
    agents.unreachable.add('gpu-b');
    const view = await svc.status(deployment.id.slice(0, 5));
    expect(view.state).toBe('unknown');
    expect(view.unreachable).toEqual([{ host: 'gpu-b', message: 'Cannot connect to gpu-b.' }]);
    expect(view.processes.map((p) => [p.name, p.host, p.state])).toEqual([
      ['prefill-0', 'gpu-a', 'ready'],
      ['decode-0', 'gpu-b', 'unknown'],
      ['router', 'gpu-a', 'ready'],
    ]);
    await expect(svc.teardown(deployment.id)).rejects.toThrow(/Could not stop .* gpu-b: Cannot connect/);
    agents.unreachable.delete('gpu-b');
    const down = await svc.teardown(deployment.id);
    expect(down.state).toBe('stopped');
    expect(agents.log.filter((l) => l.startsWith('teardown')).slice(0, 1)).toEqual([`teardown gpu-a ${deployment.id}-router`]);
  });

  it('reads the logs of one worker group or all processes in plan order', async () => {
    const { deployment, task } = await svc.apply({ specText: MOCKER_PD });
    await tasks.wait(task.id);
    const all = await svc.logs(deployment.id);
    expect(all.logs.map((l) => `${l.process}@${l.host}`)).toEqual(['prefill-0@gpu-a', 'decode-0@gpu-b', 'router@gpu-a']);
    const decode = await svc.logs(deployment.id, { process: 'decode' });
    expect(decode.logs.map((l) => l.lines)).toEqual([['decode-0 says hello']]);
    await expect(svc.logs(deployment.id, { process: 'nope' })).rejects.toThrow(/no process or worker group "nope"; it has prefill-0, decode-0, router/);
  });

  it('keeps the GPUs of a running real deployment out of the next plan, and frees them at teardown', async () => {
    const first = await svc.apply({ specText: REAL_LOCAL });
    await tasks.wait(first.task.id);
    const again = await svc.plan({ specText: REAL_LOCAL.replace('name: real', 'name: real2').replace('mode: aggregated', 'mode: aggregated\nrouter:\n  port: 9999'), source: 'r2.yaml' });
    expect(again.ok).toBe(false);
    expect(again.problems.map((p) => p.code)).toContain('gpu-busy');
    await svc.teardown('real');
    const after = await svc.plan({ specText: REAL_LOCAL });
    expect(after.ok).toBe(true);
  });
});
