import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeployTaskResult, type DeploymentView } from '../common/deployment-view';
import { parsePromText } from '../common/metrics/prom-text';
import { RouterTrace } from '../common/router-trace';
import type { Task } from '../common/task';
import { runCli as runHandoff } from './harness/cli';
import { agentArtifactsForTests, shutdownLocalAgent, startControllerFixture, trustAll, type ControllerFixture } from './harness/controller-fixture';
import { listProcs, isAlive, cmdlineOf } from './harness/procs';
import { waitFor } from './harness/ssh-test-env';
import { EXAMPLE, exampleSpec } from './harness/deploy-specs';
import { sshdUnavailableReason, startSshd, type SshdInstance } from './harness/sshd';

/**
 * Deployments end to end: the real controller, real sshd on loopback, the real agent bundle and
 * supervisor, the mocker engine and the router — the example spec with only hosts and ports
 * changed for the test machine.
 */

const skip = sshdUnavailableReason();
if (skip) console.warn(`skipping deployment SSH tests: ${skip}`);
delete process.env.SSH_AUTH_SOCK;

const REPO = path.resolve(import.meta.dirname, '..');
const MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';
const PROMPT = 'Explain in detail how the key-value cache of a transformer is handed from a prefill worker to a decode worker, and why that matters for latency. '.repeat(4);

async function chat(baseUrl: string): Promise<{ content: string; promptTokens: number }> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 8 }),
  });
  const body = (await res.json()) as { choices?: Array<{ message: { content: string } }>; usage?: { prompt_tokens: number } };
  if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${JSON.stringify(body)}`);
  return { content: body.choices?.[0]?.message.content ?? '', promptTokens: body.usage?.prompt_tokens ?? 0 };
}

/** vllm:prompt_tokens_by_source{source="external_kv_transfer"}: prompt tokens whose KV came from a prefill worker. */
async function externalKvTokens(metricsUrl: string): Promise<number> {
  const parsed = parsePromText(await (await fetch(metricsUrl)).text());
  return parsed.samples.filter((s) => s.name.startsWith('vllm:prompt_tokens_by_source') && s.labels.source === 'external_kv_transfer').reduce((a, s) => a + s.value, 0);
}

function traces(view: DeploymentView): RouterTrace[] {
  const router = view.plan.processes.find((p) => p.name === 'router')!;
  const file = router.argv[router.argv.indexOf('--trace-file') + 1]!;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // The router appends a record once it has finished with the request, just after the response.
  return text
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => RouterTrace.parse(JSON.parse(l)));
}

async function lastTrace(view: DeploymentView, count: number): Promise<RouterTrace> {
  await waitFor(() => traces(view).length >= count, `${count} router trace records`);
  return traces(view).at(-1)!;
}

/** Pids of the deployment's processes and of anything else in their process groups. */
function deploymentProcesses(uid: number, pgids: number[]): number[] {
  const groups = new Set(pgids);
  return listProcs()
    .filter((p) => p.uid === uid)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        return groups.has(pgid) || /\b(mocker|router)\b/.test(cmdlineOf(p.pid) ?? '');
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

function stepsSeen(fx: ControllerFixture, taskId: string, onFirstRunning: () => void): void {
  let fired = false;
  const onTask = (t: Task) => {
    if (fired || t.id !== taskId) return;
    if (t.steps.some((s) => s.id !== 'apply' && s.state === 'running')) {
      fired = true;
      fx.controller.tasks.off('updated', onTask);
      onFirstRunning();
    }
  };
  fx.controller.tasks.on('updated', onTask);
}

describe.skipIf(skip !== null)('deployments over real SSH', () => {
  let fx: ControllerFixture;
  const sshds: SshdInstance[] = [];
  const sshd = async (opts: Parameters<typeof startSshd>[0] = {}) => {
    const s = await startSshd(opts);
    sshds.push(s);
    return s;
  };
  const addHost = async (s: SshdInstance, name: string) => {
    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name, target: { user: s.user, host: s.address, port: s.port }, identityFile: s.keys.plain });
    const t = await fx.finish(task, trustAll);
    expect(t.error).toBeUndefined();
  };
  const deploy = async (specText: string) => {
    const { deployment, task } = await fx.controller.deployments.apply({ specText, source: 'test-spec.yaml' });
    const t = await fx.finish(task);
    if (t.state !== 'succeeded') throw new Error(`deploy failed: ${t.error?.message}`);
    return { id: deployment.id, result: DeployTaskResult.parse(t.result) };
  };

  let loop: SshdInstance;
  /** Teardowns of deployments a failed test may have left running. */
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  });
  beforeAll(async () => {
    fx = await startControllerFixture();
    loop = await sshd();
    await addHost(loop, 'loop');
  }, 240_000);
  afterAll(async () => {
    await fx?.close();
    await Promise.all(sshds.map((s) => s.stop()));
  });

  it('deploys the mocker disaggregated example over SSH, hands KV from prefill to decode, and leaves no process after teardown', async () => {
    const { text, ports } = await exampleSpec({ prefill: 'loop', decode: 'loop' });
    const { id, result } = await deploy(text);
    cleanups.push(() => fx.controller.deployments.teardown(id));
    expect(result).toMatchObject({ simulated: true, endpoint: { host: 'loop', url: `http://127.0.0.1:${ports.router}` } });

    const view = await fx.controller.deployments.status(id);
    expect(view.state).toBe('ready');
    expect(view.simulated).toBe(true);
    expect(view.processes.map((p) => [p.name, p.state])).toEqual([
      ['prefill-0', 'ready'],
      ['decode-0', 'ready'],
      ['router', 'ready'],
    ]);
    const decode = view.processes.find((p) => p.name === 'decode-0')!;
    const before = await externalKvTokens(decode.metricsUrl);

    const fwd = await fx.controller.deployments.forward(id);
    const answer = await chat(fwd.url);
    expect(answer.content.length).toBeGreaterThan(0);
    const after = await externalKvTokens(decode.metricsUrl);
    expect(after).toBeGreaterThan(before);
    const trace = await lastTrace(view, 1);
    expect(trace).toMatchObject({ prefill: 'remote', prefillReason: 'disaggregated', status: 'ok', prefillWorker: `http://127.0.0.1:${ports.prefill}`, decodeWorker: `http://127.0.0.1:${ports.decode}` });
    expect(trace.kvBlocks).toBeGreaterThan(0);

    // Live-chart numbers: pulled once, and pushed as events while watched.
    const [sample] = await fx.controller.deployments.sample(id);
    expect(sample).toMatchObject({ id, host: 'loop' });
    expect(Object.keys(sample!.perProcess).sort()).toEqual(['decode-0', 'prefill-0', 'router']);
    const pushed = new Promise<string>((resolve) => fx.controller.deployments.once('sample', (s) => resolve(s.id)));
    const { watchId } = await fx.controller.deployments.watch(id);
    expect(await pushed).toBe(id);
    expect(await fx.controller.deployments.unwatch(watchId)).toBe(true);

    const pgids = view.processes.map((p) => p.pgid!).filter(Boolean);
    expect(deploymentProcesses(loop.uid, pgids).length).toBeGreaterThanOrEqual(3);
    const down = await fx.controller.deployments.teardown(id);
    expect(down.state).toBe('stopped');
    expect(deploymentProcesses(loop.uid, pgids)).toEqual([]);
    for (const p of view.processes) expect(isAlive(p.pid!)).toBe(false);
    expect((await fx.controller.deployments.list()).find((d) => d.id === id)?.state).toBe('stopped');
    await expect(fx.controller.deployments.forward(id)).rejects.toThrow(/is stopped/);
  }, 120_000);

  it('shows a crashed decode worker with how it ended and its last log lines, in the API and the CLI', async () => {
    const { text } = await exampleSpec({ prefill: 'loop', decode: 'loop' });
    const { id } = await deploy(text);
    try {
      const decode = (await fx.controller.deployments.status(id)).processes.find((p) => p.name === 'decode-0')!;
      const followed: string[] = [];
      const follow = await fx.controller.deployments.followLogs(id, { process: 'decode-0', lines: 5 }, (l) => followed.push(l.line));
      expect(follow.logs).toEqual([expect.objectContaining({ process: 'decode-0', host: 'loop' })]);
      process.kill(decode.pid!, 'SIGKILL');
      await waitFor(() => followed.some((l) => l.includes('decode-0 was killed by SIGKILL')), 'the crash note in the followed log');
      follow.stop();
      let view!: DeploymentView;
      await waitFor(async () => {
        view = await fx.controller.deployments.status(id);
        return view.processes.find((p) => p.name === 'decode-0')?.state === 'crashed';
      }, 'decode-0 to be reported crashed');
      const crashed = view.processes.find((p) => p.name === 'decode-0')!;
      expect(crashed).toMatchObject({ state: 'crashed', signal: 'SIGKILL', exitKnown: true, host: 'loop' });
      expect(crashed.lastLogLines.join('\n')).toMatch(/Application startup complete/);
      expect(view.state).toBe('degraded');

      const cli = await runCli(['status', id.slice(0, -2)], { HANDOFF_HOME: fx.home, HOME: fx.userHome });
      expect(cli.code).toBe(0);
      expect(cli.stdout).toMatch(/decode-0\s+loop\s+decode\s+crashed\s+\d+\s+\d+\s+SIGKILL/);
      expect(cli.stdout).toMatch(/last log lines .*decode-0\.log on loop/);
      expect(cli.stdout).toContain('Application startup complete');
      const json = JSON.parse((await runCli(['status', id, '--json'], { HANDOFF_HOME: fx.home, HOME: fx.userHome })).stdout) as DeploymentView;
      expect(json.processes.find((p) => p.name === 'decode-0')).toMatchObject({ state: 'crashed', signal: 'SIGKILL' });
    } finally {
      await fx.controller.deployments.teardown(id);
    }
  }, 180_000);

  it('keeps a deployment running through a dropped SSH connection and finds it again on reconnect', async () => {
    const { text } = await exampleSpec({ prefill: 'loop', decode: 'loop' });
    const { deployment, task } = await fx.controller.deployments.apply({ specText: text });
    // Drop the link while the processes start: the agent carries on, the deploy task reconnects.
    stepsSeen(fx, task.id, () => loop.dropConnections());
    const t = await fx.finish(task);
    expect(t.error).toBeUndefined();
    const id = deployment.id;
    try {
      const first = await fx.controller.deployments.status(id);
      expect(first.state).toBe('ready');
      loop.dropConnections();
      await new Promise((r) => setTimeout(r, 300));
      const again = await fx.controller.deployments.status(id);
      expect(again.state).toBe('ready');
      expect(again.processes.map((p) => p.pid)).toEqual(first.processes.map((p) => p.pid));
      const fwd = await fx.controller.deployments.forward(id);
      expect((await chat(fwd.url)).content.length).toBeGreaterThan(0);
      // A followed log resumes after the link drops.
      const followed: string[] = [];
      const gaps: string[] = [];
      const follow = await fx.controller.deployments.followLogs(id, { process: 'decode-0', lines: 0 }, (l) => followed.push(l.line), (host) => gaps.push(host));
      loop.dropConnections();
      await waitFor(() => gaps.length > 0, 'the follow to notice the dropped connection');
      const logFile = again.processes.find((p) => p.name === 'decode-0')!.logFile;
      let n = 0;
      await waitFor(() => {
        appendFileSync(logFile, `marker ${n++}\n`);
        return followed.some((l) => l.startsWith('marker '));
      }, 'a line written after the reconnect to arrive');
      follow.stop();
      expect(gaps).toEqual(['loop']);
      // The tunnel opens a channel per connection, so it outlives a reconnect too.
      loop.dropConnections();
      await new Promise((r) => setTimeout(r, 300));
      expect((await chat(fwd.url)).content.length).toBeGreaterThan(0);
    } finally {
      await fx.controller.deployments.teardown(id);
    }
  }, 180_000);

  it('shares one SSH connection between concurrent callers (status of several parts on one host at once)', async () => {
    fx.controller.hosts.disconnect('loop');
    const conns = await Promise.all([1, 2, 3].map(() => fx.controller.hosts.agent('loop')));
    expect(new Set(conns).size).toBe(1);
  }, 60_000);

  it('drives a deployment from the CLI: deploy returns when ready, then deployments, logs, forward and down', async () => {
    const env = { HANDOFF_HOME: fx.home, HOME: fx.userHome };
    const { text, ports } = await exampleSpec({ prefill: 'loop', decode: 'loop' });
    const file = path.join(fx.home, 'cli-spec.yaml');
    await fs.writeFile(file, text);
    const dep = await runCli(['deploy', file], env);
    expect(dep.code, dep.stderr).toBe(0);
    const [id, endpoint] = dep.stdout.trim().split('\n');
    expect(id).toMatch(/^mocker-disaggregated-[0-9a-f]{6}$/);
    expect(endpoint).toBe(`http://127.0.0.1:${ports.router}/v1`);
    expect(dep.stderr).toMatch(/✓ router on loop — ready/);
    expect(dep.stderr).toContain('(simulated)');
    try {
      const list = await runCli(['deployments'], env);
      expect(list.stdout).toMatch(new RegExp(`${id}\\s+ready\\s+mocker \\(simulated\\)\\s+disaggregated\\s+loop`));
      const logs = await runCli(['logs', id!, '--worker', 'router', '-n', '20'], env);
      expect(logs.stdout).toContain('router listening');

      const fwd = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'electron', 'cli', 'main.ts'), 'forward', id!], {
        cwd: REPO,
        env: { ...process.env, ...env, HANDOFF_AGENT_BUNDLE: (await agentArtifactsForTests()).bundlePath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          fwd.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('\n')) resolve(out.split('\n')[0]!);
          });
          fwd.once('exit', (code) => reject(new Error(`handoff forward exited with ${code}`)));
        });
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
        expect((await chat(url)).content.length).toBeGreaterThan(0);
      } finally {
        const exited = new Promise<number | null>((resolve) => fwd.once('exit', (code) => resolve(code)));
        fwd.kill('SIGINT');
        expect(await exited).toBe(0);
      }

      const down = await runCli(['down', id!], env);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toContain(`Stopped ${id}.`);
      const after = JSON.parse((await runCli(['deployments', '--json'], env)).stdout) as Array<{ id: string; state: string }>;
      expect(after.find((d) => d.id === id)?.state).toBe('stopped');
    } finally {
      await fx.controller.deployments.teardown(id!).catch(() => undefined);
    }
  }, 240_000);

  it('runs a two-host disaggregated deployment: prefill on one host, decode on another, the router reaching decode by address', async () => {
    const a = await sshd({ address: '127.0.0.2' });
    const b = await sshd({ address: '127.0.0.3', shareKeysWith: a });
    await addHost(a, 'host-a');
    await addHost(b, 'host-b');
    const { text, ports } = await exampleSpec({ prefill: 'host-a', decode: 'host-b', router: 'host-a' });
    const dry = await fx.controller.deployments.plan({ specText: text });
    expect(dry.ok).toBe(true);
    expect(dry.text).toContain(`--decode http://127.0.0.3:${ports.decode}`);
    const { id } = await deploy(text);
    try {
      const view = await fx.controller.deployments.status(id);
      expect(view.hosts).toEqual(['host-a', 'host-b']);
      expect(view.processes.map((p) => [p.name, p.host, p.state])).toEqual([
        ['prefill-0', 'host-a', 'ready'],
        ['decode-0', 'host-b', 'ready'],
        ['router', 'host-a', 'ready'],
      ]);
      const decode = view.processes.find((p) => p.name === 'decode-0')!;
      expect(decode.metricsUrl).toBe(`http://127.0.0.3:${ports.decode}/metrics`);
      const before = await externalKvTokens(decode.metricsUrl);
      const fwd = await fx.controller.deployments.forward(id);
      await chat(fwd.url);
      expect(await externalKvTokens(decode.metricsUrl)).toBeGreaterThan(before);
      expect(await lastTrace(view, 1)).toMatchObject({ prefill: 'remote', decodeWorker: `http://127.0.0.3:${ports.decode}` });
      const logs = await fx.controller.deployments.logs(id, { process: 'decode', lines: 50 });
      expect(logs.logs).toEqual([expect.objectContaining({ process: 'decode-0', host: 'host-b' })]);
      const pgidsA = view.processes.filter((p) => p.host === 'host-a').map((p) => p.pgid!);
      const pgidsB = view.processes.filter((p) => p.host === 'host-b').map((p) => p.pgid!);
      await fx.controller.deployments.teardown(id);
      expect(deploymentProcesses(a.uid, pgidsA)).toEqual([]);
      expect(deploymentProcesses(b.uid, pgidsB)).toEqual([]);
    } finally {
      await fx.controller.deployments.teardown(id).catch(() => undefined);
    }
  }, 240_000);
});

let bundlePath: string | null = null;

/** `handoff …` as a user runs it, in its own process, with the test's agent bundle (no rebuild per run). */
async function runCli(args: string[], env: Record<string, string>) {
  bundlePath ??= (await agentArtifactsForTests()).bundlePath;
  return runHandoff(args, { HANDOFF_AGENT_BUNDLE: bundlePath, ...env });
}

describe('handoff deploy on invalid specs and dry runs', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-cli-deploy-'));
    env = { HANDOFF_HOME: home, HOME: home, HANDOFF_AGENT_HOME: path.join(home, 'local-agent') };
  });
  afterAll(async () => {
    await shutdownLocalAgent(path.join(home, 'local-agent'));
    await fs.rm(home, { recursive: true, force: true });
  });

  const example = () => readFileSync(EXAMPLE, 'utf8');
  const cases: Array<{ what: string; code: string; edit: (s: string) => string; line: number; says: RegExp }> = [
    { what: 'broken YAML', code: 'spec-syntax', edit: (s) => s.replace('mode: disaggregated', 'mode: [disaggregated'), line: 9, says: /YAML\/JSON syntax/ },
    { what: 'a misspelt field', code: 'spec-invalid', edit: (s) => s.replace('engine: mocker\n', 'engine: mocker\nenigne: vllm\n'), line: 8, says: /enigne/ },
    { what: 'a host that is not saved', code: 'unknown-host', edit: (s) => s.replace('host: this-computer\n    tp: 2', 'host: gpu-9\n    tp: 2'), line: 17, says: /Host "gpu-9" is not one of your hosts/ },
    { what: 'TP that does not match the GPU count', code: 'tp-gpu-mismatch', edit: (s) => s.replace('gpus: [1, 2]', 'gpus: [1, 2, 3]'), line: 19, says: /tp: 2 but 3 GPUs/ },
    { what: 'prefill TP above decode TP', code: 'prefill-tp-exceeds-decode', edit: (s) => s.replace('tp: 1\n    gpus: [0]', 'tp: 4\n    gpus: [0, 3, 4, 5]'), line: 13, says: /TP/ },
    { what: 'two processes on one port', code: 'port-clash', edit: (s) => s.replace('tp: 1\n', 'tp: 1\n    port: 18123\n').replace('tp: 2\n', 'tp: 2\n    port: 18123\n'), line: 20, says: /Port 18123 on "this-computer" is given to both/ },
    { what: 'an environment variable the planner owns', code: 'env-reserved', edit: (s) => `${s}env:\n  CUDA_VISIBLE_DEVICES: "0"\n`, line: 27, says: /CUDA_VISIBLE_DEVICES is set by the planner/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.what} with a [${c.code}] line naming the spec line, and exits 1`, async () => {
      const file = path.join(home, `${c.code}.yaml`);
      await fs.writeFile(file, c.edit(example()));
      const r = await runCli(['deploy', file], env);
      expect(r.code, r.stderr).toBe(1);
      const line = r.stderr.split('\n').find((l) => l.includes(`[${c.code}]`));
      expect(line, r.stderr).toBeDefined();
      expect(line!.startsWith(`${file}:${c.line}:`), line).toBe(true);
      expect(line).toMatch(c.says);
      expect(r.stdout).toBe('');
    }, 90_000);
  }

  it('prints the plan with --dry-run and starts nothing', async () => {
    const r = await runCli(['deploy', EXAMPLE, '--dry-run'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Deployment "mocker-disaggregated": engine mocker (simulated), disaggregated, 3 processes on this-computer');
    expect(r.stdout).toContain('VLLM_NIXL_SIDE_CHANNEL_PORT=5601');
    expect(r.stdout).toMatch(/@handoff-agent router \\\n\s+--host 127\.0\.0\.1 \\\n\s+--port 8181/);
    expect(r.stderr).toContain('nothing was started');
    const list = await runCli(['deployments', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const agentPid = Number(readFileSync(path.join(home, 'local-agent', 'agent.pid'), 'utf8'));
    expect(listProcs().filter((p) => p.ppid === agentPid)).toEqual([]);
  }, 90_000);

  it('says which deployment it cannot find', async () => {
    const r = await runCli(['status', 'nothing-here'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No deployment matches "nothing-here"');
  }, 60_000);
});
