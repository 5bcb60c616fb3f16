/**
 * Time to ready of the mocker disaggregated example deployed over loopback SSH (goal < 5 s): from
 * `deployments.apply` to the deploy task's success, with a cold SSH connection (the controller
 * connects, attaches to the agent, plans, starts prefill and decode, then the router, and waits
 * for every /health). Baseline, same run: the same argv started directly with child_process on
 * this machine, in the same order, polling /health every 20 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PlannedProcess } from '../common/deployment';
import { DeployTaskResult } from '../common/deployment-view';
import { agentArtifactsForTests, startControllerFixture, trustAll } from '../e2e/harness/controller-fixture';
import { exampleSpec } from '../e2e/harness/deploy-specs';
import { sshdUnavailableReason, startSshd } from '../e2e/harness/sshd';
import type { BenchRow } from './bench-row';

const RUNS = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

async function untilHealthy(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await healthy(url))) {
    if (Date.now() > deadline) throw new Error(`${url} never answered 200`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts the planned processes directly (no SSH, no agent), workers then router; ms to the router's 200. */
async function startDirectly(procs: PlannedProcess[], agentCommand: string[], dir: string): Promise<{ ms: number; children: ChildProcess[] }> {
  const children: ChildProcess[] = [];
  const start = (p: PlannedProcess) => {
    const argv = p.argv[0] === '@handoff-agent' ? [...agentCommand, ...p.argv.slice(1)] : [...p.argv];
    const trace = argv.indexOf('--trace-file');
    if (trace >= 0) argv[trace + 1] = path.join(dir, 'router-traces.jsonl');
    const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, env: { ...process.env, ...p.env }, stdio: 'ignore', detached: true });
    children.push(child);
  };
  const t0 = performance.now();
  const workers = procs.filter((p) => p.kind === 'worker');
  for (const w of workers) start(w);
  await Promise.all(workers.map((w) => untilHealthy(w.readiness.url)));
  const router = procs.find((p) => p.kind === 'router')!;
  start(router);
  await untilHealthy(router.readiness.url);
  return { ms: performance.now() - t0, children };
}

async function stopGroups(children: ChildProcess[]): Promise<void> {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}

export async function benchDeployReady(): Promise<BenchRow[]> {
  const why = sshdUnavailableReason();
  if (why) throw new Error(`needs a real sshd on loopback: ${why}`);
  delete process.env.SSH_AUTH_SOCK;
  const fx = await startControllerFixture();
  const sshd = await startSshd();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-bench-deploy-'));
  try {
    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name: 'bench', target: { user: sshd.user, host: sshd.address, port: sshd.port }, identityFile: sshd.keys.plain });
    const checked = await fx.finish(task, trustAll);
    if (checked.state !== 'succeeded') throw new Error(`host check failed: ${checked.error?.message}`);

    const viaSsh: number[] = [];
    const direct: number[] = [];
    const bundle = (await agentArtifactsForTests()).bundlePath;
    for (let i = 0; i < RUNS; i++) {
      const { text } = await exampleSpec({ prefill: 'bench', decode: 'bench' });
      // Cold: the deploy pays for the SSH connection and the agent attach, as a fresh `handoff deploy` does.
      fx.controller.hosts.disconnect('bench');
      const t0 = performance.now();
      const { deployment, task: deploying } = await fx.controller.deployments.apply({ specText: text });
      const done = await fx.finish(deploying);
      const ms = performance.now() - t0;
      if (done.state !== 'succeeded') throw new Error(`deploy failed: ${done.error?.message}`);
      DeployTaskResult.parse(done.result);
      viaSsh.push(ms);
      await fx.controller.deployments.teardown(deployment.id);

      const plan = await fx.controller.deployments.plan({ specText: (await exampleSpec({ prefill: 'bench', decode: 'bench' })).text });
      if (!plan.plan) throw new Error('plan failed');
      const run = await startDirectly(plan.plan.processes, [process.execPath, bundle], tmp);
      direct.push(run.ms);
      await stopGroups(run.children);
    }
    return [
      {
        figure: 'mocker disaggregated example ready over loopback SSH (cold connection, median of 3)',
        value: median(viaSsh),
        unit: 'ms',
        goal: '< 5000 ms',
        baseline: median(direct),
        baselineLabel: 'same processes started directly with child_process',
      },
    ];
  } finally {
    await fx.close();
    await sshd.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
