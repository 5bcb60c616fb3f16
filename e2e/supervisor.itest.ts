/**
 * The supervisor inside the real agent daemon (bundle, started through `attach`), driving real
 * processes: small Node HTTP servers whose behaviour is set by environment variables, plus the
 * mocker and router launched through the `@handoff-agent` argv token.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeployApplyInput, DeployProgress, DeploySample, LaunchProcessInput } from '../common/deploy-rpc';
import { RpcCallError, type RpcClient } from '../common/rpc-client';
import { HANDOFF_VERSION } from '../common/version';
import { readDaemonPid, spawnAttach, stopDaemon, type LocalAttach } from '../agents/daemon/local-agent';
import { groupMembers, listProcStats, readProcStat } from '../agents/supervisor/proc-table';
import { buildAgentBundle } from '../build/agent-bundle';

const FIXTURE = String.raw`
const http = require('http');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const env = process.env;
const startedMs = Date.now();
let scrapes = 0;
console.log('fixture ' + (env.NAME || '') + ' pid ' + process.pid + ' starting');
if (env.IGNORE_TERM) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
else process.on('SIGTERM', () => { console.log('got SIGTERM, exiting'); process.exit(0); });
for (const f of (env.CREATE_PATHS || '').split(',').filter(Boolean)) {
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, 'nixl metadata');
}
const sleeper = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)";
if (env.GRANDCHILDREN) {
  const same = spawn(process.execPath, ['-e', sleeper], { stdio: 'ignore' });
  console.log('grandchild same-group pid ' + same.pid);
  const own = spawn(process.execPath, ['-e', sleeper], { stdio: 'ignore', detached: true });
  console.log('grandchild own-session pid ' + own.pid);
}
if (env.LOG_EVERY_MS) {
  let n = 0;
  setInterval(() => console.log('tick ' + (++n) + ' ' + 'x'.repeat(Number(env.LOG_PAD || 0))), Number(env.LOG_EVERY_MS));
}
if (env.CRASH_AFTER_MS) {
  setTimeout(() => {
    for (let i = 1; i <= 60; i++) console.error('trace line ' + i);
    console.error('fatal: simulated crash');
    process.exit(Number(env.EXIT_CODE || 1));
  }, Number(env.CRASH_AFTER_MS));
}
function metrics() {
  scrapes++;
  const n = scrapes;
  return [
    '# TYPE vllm:request_success_total counter',
    'vllm:request_success_total{finished_reason="stop"} ' + 10 * n,
    '# TYPE vllm:time_to_first_token_seconds histogram',
    'vllm:time_to_first_token_seconds_bucket{le="0.05"} 0',
    'vllm:time_to_first_token_seconds_bucket{le="0.1"} ' + 10 * n,
    'vllm:time_to_first_token_seconds_bucket{le="+Inf"} ' + 10 * n,
    'vllm:time_to_first_token_seconds_sum ' + 0.8 * n,
    'vllm:time_to_first_token_seconds_count ' + 10 * n,
    '# TYPE vllm:kv_cache_usage_perc gauge',
    'vllm:kv_cache_usage_perc 0.25',
    'vllm:num_requests_running 3',
    'vllm:num_requests_waiting 1',
    '# TYPE vllm:nixl_bytes_transferred histogram',
    'vllm:nixl_bytes_transferred_sum ' + 1e6 * n,
    'vllm:nixl_bytes_transferred_count ' + n,
    '',
  ].join('\n');
}
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    const ok = !env.NEVER_READY && Date.now() - startedMs >= Number(env.READY_AFTER_MS || 0);
    res.statusCode = ok ? 200 : 503;
    res.end(ok ? 'ok' : 'loading');
    return;
  }
  if (req.url === '/metrics') {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(metrics());
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.listen(Number(env.PORT), '127.0.0.1', () => console.log('listening on ' + env.PORT));
`;

let bundle: string;
let tmp: string;
let fixture: string;
const attaches: LocalAttach[] = [];
const homes: string[] = [];
const extraPids: number[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hsv-'));
  bundle = await buildAgentBundle(path.join(tmp, 'handoff-agent.cjs'));
  fixture = path.join(tmp, 'fixture-server.cjs');
  fs.writeFileSync(fixture, FIXTURE);
});

afterEach(async () => {
  for (const a of attaches.splice(0)) {
    a.client.close();
    a.child.kill('SIGKILL');
  }
  for (const home of homes.splice(0)) {
    const pid = await readDaemonPid(home);
    if (pid) await stopDaemon(pid);
    killRecordedGroups(home);
  }
  for (const pid of extraPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Safety net when a test fails half-way: SIGKILL every group a state file names, if it is still the same process. */
function killRecordedGroups(home: string): void {
  const dir = path.join(home, 'deployments');
  if (!fs.existsSync(dir)) return;
  for (const id of fs.readdirSync(dir)) {
    let state: { processes: Array<{ status: { pid: number | null; startTime: number | null } }> };
    try {
      state = JSON.parse(fs.readFileSync(path.join(dir, id, 'state.json'), 'utf8')) as typeof state;
    } catch {
      continue;
    }
    for (const p of state.processes) {
      if (p.status.pid === null) continue;
      for (const m of groupMembers(p.status.pid, p.status.startTime)) {
        try {
          process.kill(m.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }
}

function newHome(): string {
  const home = fs.mkdtempSync(path.join(tmp, 'home-'));
  homes.push(home);
  return home;
}

interface Agent {
  client: RpcClient;
  progress: DeployProgress[];
  samples: DeploySample[];
  lines: Array<{ process: string; line: string; followId: string }>;
}

async function connect(home: string): Promise<Agent> {
  const a = spawnAttach(bundle, home);
  attaches.push(a);
  const agent: Agent = { client: a.client, progress: [], samples: [], lines: [] };
  a.client.onAgentNotification('deploy.progress', (p) => agent.progress.push(p));
  a.client.onAgentNotification('deploy.sample', (s) => agent.samples.push(s));
  a.client.onAgentNotification('logs.line', (l) => agent.lines.push(l));
  await a.client.hello(HANDOFF_VERSION);
  return agent;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function fixtureProcess(name: string, env: Record<string, string> = {}, extra: Partial<LaunchProcessInput> = {}): Promise<LaunchProcessInput> {
  const port = await freePort();
  return {
    name,
    role: 'worker',
    argv: [process.execPath, fixture],
    env: { PORT: String(port), NAME: name, ...env },
    port,
    readiness: { url: `http://127.0.0.1:${port}/health`, timeoutS: 30 },
    ...extra,
  };
}

function deployment(id: string, processes: LaunchProcessInput[], extra: Partial<DeployApplyInput> = {}): DeployApplyInput {
  return { deploymentId: id, name: `test ${id}`, simulated: true, spec: { test: id }, processes, ...extra };
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function statusOf(agent: Agent, id: string) {
  const r = await agent.client.call('deploy.status', { deploymentId: id });
  return r.deployments[0]!;
}

async function procStatus(agent: Agent, id: string, name: string) {
  return (await statusOf(agent, id)).processes.find((p) => p.name === name)!;
}

/** Live members of a process group (and its session), straight from /proc. */
function liveInGroup(pgid: number): number[] {
  return listProcStats()
    .filter((s) => (s.pgid === pgid || s.sid === pgid) && s.state !== 'Z')
    .map((s) => s.pid);
}

function alive(pid: number): boolean {
  const s = readProcStat(pid);
  return s !== null && s.state !== 'Z';
}

async function expectRpcError(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RpcCallError);
  expect((err as RpcCallError).code).toBe(code);
  expect((err as RpcCallError).message).toMatch(message);
}

describe('supervisor (deploy.* and logs.* in the agent daemon)', () => {
  it('starts processes in dependency order, each in its own process group, with progress in order; teardown leaves no process and removes cleanup paths', async () => {
    const agent = await connect(newHome());
    const nixlDir = path.join(tmp, 'nixl-meta-1');
    const metaFile = path.join(nixlDir, 'agent.meta');
    const prefill = await fixtureProcess('prefill-0', { READY_AFTER_MS: '700', CREATE_PATHS: metaFile }, { role: 'prefill', cleanupPaths: [nixlDir] });
    const router = await fixtureProcess('router', {}, { role: 'router', dependsOn: ['prefill-0'] });
    const res = await agent.client.call('deploy.apply', deployment('dep-order', [router, prefill], { wait: true }));
    expect(res.state).toBe('ready');

    const phases = agent.progress.filter((p) => p.deploymentId === 'dep-order').map((p) => `${p.process}:${p.phase}`);
    // 'loading' appears once the first probe fails, which a fast process may skip.
    expect(phases.filter((p) => !p.endsWith(':loading'))).toEqual(['prefill-0:starting', 'prefill-0:ready', 'router:starting', 'router:ready']);
    expect(phases.indexOf('prefill-0:loading')).toBe(1);
    expect(agent.progress.at(-1)?.deploymentState).toBe('ready');

    const status = await statusOf(agent, 'dep-order');
    expect(status).toMatchObject({ state: 'ready', simulated: true, spec: { test: 'dep-order' } });
    for (const p of status.processes) {
      expect(p.state).toBe('ready');
      expect(p.pgid).toBe(p.pid);
      const stat = readProcStat(p.pid!)!;
      expect(stat).toMatchObject({ pgid: p.pid, sid: p.pid, startTime: p.startTime });
    }
    expect(fs.existsSync(metaFile)).toBe(true);

    const pids = status.processes.map((p) => p.pid!);
    const down = await agent.client.call('deploy.teardown', { deploymentId: 'dep-order', graceS: 5 });
    expect(down).toMatchObject({ state: 'stopped', killed: [], removedPaths: [nixlDir] });
    for (const pid of pids) expect(liveInGroup(pid)).toEqual([]);
    expect(fs.existsSync(nixlDir)).toBe(false);
    const after = await statusOf(agent, 'dep-order');
    expect(after.state).toBe('stopped');
    expect(after.processes.map((p) => p.state)).toEqual(['stopped', 'stopped']);
    expect(agent.progress.filter((p) => p.phase === 'stopped').map((p) => p.deploymentState)).toEqual(['stopped', 'stopped']);
    // The state survives on disk, written atomically.
    const onDisk = JSON.parse(fs.readFileSync(path.join(status.dir, 'state.json'), 'utf8')) as { state: string };
    expect(onDisk.state).toBe('stopped');
  }, 60_000);

  it('starts a process with cpus under taskset: every thread of it runs only on those CPUs, with the same pid and process group', async () => {
    const agent = await connect(newHome());
    const cpu = fs.readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(\d+)/m)![1]!;
    const pinned = await fixtureProcess('decode-0', {}, { role: 'decode', cpus: cpu });
    expect((await agent.client.call('deploy.apply', deployment('dep-cpus', [pinned], { wait: true }))).state).toBe('ready');
    const [p] = (await statusOf(agent, 'dep-cpus')).processes;
    expect(p!.pgid).toBe(p!.pid);
    expect(fs.readFileSync(`/proc/${p!.pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
    // Every thread node started after taskset exec'd it (V8's and libuv's among them).
    const tasks = fs.readdirSync(`/proc/${p!.pid}/task`);
    const sets = tasks.map((tid) => fs.readFileSync(`/proc/${p!.pid}/task/${tid}/status`, 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m)![1]);
    expect(sets.length).toBeGreaterThan(1);
    expect(new Set(sets)).toEqual(new Set([cpu]));
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-cpus', graceS: 5 });
  }, 60_000);

  it('fails a start whose readiness probe never answers 200, with the URL, the timeout and the last log lines, and does not start its dependents', async () => {
    const agent = await connect(newHome());
    const stuck = await fixtureProcess('decode-0', { NEVER_READY: '1' }, { role: 'decode' });
    stuck.readiness = { ...stuck.readiness, timeoutS: 3 };
    const router = await fixtureProcess('router', {}, { role: 'router', dependsOn: ['decode-0'] });
    const res = await agent.client.call('deploy.apply', deployment('dep-timeout', [stuck, router], { wait: true }));
    expect(res.state).toBe('failed');
    const decode = res.deployment.processes.find((p) => p.name === 'decode-0')!;
    expect(decode.state).toBe('failed');
    expect(decode.detail).toContain(`GET http://127.0.0.1:${stuck.port}/health did not answer 200 within 3 s (last probe: HTTP 503)`);
    expect(decode.lastLogLines.join('\n')).toContain(`listening on ${stuck.port}`);
    expect(liveInGroup(decode.pid!)).toEqual([]);
    const r = res.deployment.processes.find((p) => p.name === 'router')!;
    expect(r).toMatchObject({ state: 'failed', pid: null, detail: 'not started: decode-0 did not become ready' });
    expect(res.deployment.error).toContain('decode-0: did not become ready');
    const failed = agent.progress.filter((p) => p.phase === 'failed').map((p) => p.process);
    expect(failed).toEqual(['decode-0', 'router']);
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-timeout', graceS: 1 });
  }, 60_000);

  it('reports a crashed process with its exit code and last log lines, and restarts only with the on-failure policy', async () => {
    const agent = await connect(newHome());
    const crasher = await fixtureProcess('decode-0', { CRASH_AFTER_MS: '1500', EXIT_CODE: '3' });
    const restarter = await fixtureProcess('decode-1', { CRASH_AFTER_MS: '1500', EXIT_CODE: '4' }, { restart: 'on-failure', maxRestarts: 2, restartBackoffS: 0.2 });
    await agent.client.call('deploy.apply', deployment('dep-crash', [crasher, restarter], { wait: true }));

    const crashed = await waitFor('decode-0 to crash', async () => {
      const p = await procStatus(agent, 'dep-crash', 'decode-0');
      return p.state === 'crashed' ? p : null;
    });
    expect(crashed).toMatchObject({ exitCode: 3, signal: null, exitKnown: true, restarts: 0, detail: 'exited with code 3' });
    expect(crashed.lastLogLines).toHaveLength(50);
    expect(crashed.lastLogLines.at(-1)).toBe('fatal: simulated crash');
    expect(crashed.lastLogLines[0]).toBe('trace line 12');
    expect(agent.progress.find((p) => p.process === 'decode-0' && p.phase === 'exited')).toMatchObject({ detail: 'exited with code 3' });

    // decode-1 crashes three times: the first start and two restarts, then it stays down.
    const gaveUp = await waitFor(
      'decode-1 to use up its restarts',
      async () => {
        const p = await procStatus(agent, 'dep-crash', 'decode-1');
        return p.state === 'crashed' && p.restarts === 2 ? p : null;
      },
      30_000,
    );
    expect(gaveUp.exitCode).toBe(4);
    expect(gaveUp.detail).toContain('not restarted: 2 restarts used');
    const seq = agent.progress.filter((p) => p.process === 'decode-1' && p.phase !== 'loading').map((p) => p.phase);
    expect(seq).toEqual(['starting', 'ready', 'exited', 'restarting', 'starting', 'ready', 'exited', 'restarting', 'starting', 'ready', 'exited']);
    expect(agent.progress.filter((p) => p.process === 'decode-0').map((p) => p.phase)).not.toContain('restarting');
    expect((await statusOf(agent, 'dep-crash')).state).toBe('degraded');
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-crash', graceS: 1 });
  }, 60_000);

  it('teardown SIGKILLs process groups that ignore SIGTERM after the grace period, grandchildren included', async () => {
    const agent = await connect(newHome());
    const stubborn = await fixtureProcess('decode-0', { IGNORE_TERM: '1', GRANDCHILDREN: '1' });
    await agent.client.call('deploy.apply', deployment('dep-stubborn', [stubborn], { wait: true }));
    const tail = await waitFor('the grandchildren to start', async () => {
      const t = await agent.client.call('logs.tail', { deploymentId: 'dep-stubborn', process: 'decode-0' });
      const text = t.logs[0]!.lines.join('\n');
      return /own-session pid \d+/.test(text) ? text : null;
    });
    const same = Number(/same-group pid (\d+)/.exec(tail)![1]);
    const own = Number(/own-session pid (\d+)/.exec(tail)![1]);
    extraPids.push(same, own);
    const leader = (await procStatus(agent, 'dep-stubborn', 'decode-0')).pid!;
    expect(readProcStat(same)!.pgid).toBe(leader);
    expect(readProcStat(own)!.sid).toBe(own);

    const down = await agent.client.call('deploy.teardown', { deploymentId: 'dep-stubborn', graceS: 1 });
    expect(down.killed).toEqual(['decode-0']);
    expect(liveInGroup(leader)).toEqual([]);
    expect(alive(same)).toBe(false);
    expect(alive(own)).toBe(false);
    const p = await procStatus(agent, 'dep-stubborn', 'decode-0');
    expect(p).toMatchObject({ state: 'stopped', detail: 'stopped with SIGKILL after the 1 s grace period' });
    const log = fs.readFileSync(p.logFile, 'utf8');
    expect(log).toContain('ignoring SIGTERM');
  }, 60_000);

  it('re-adopts running processes after the daemon is killed, keeps watching them, and still tears them down', async () => {
    const home = newHome();
    let agent = await connect(home);
    const a = await fixtureProcess('prefill-0');
    const b = await fixtureProcess('decode-0');
    await agent.client.call('deploy.apply', deployment('dep-adopt', [a, b], { wait: true }));
    const before = await statusOf(agent, 'dep-adopt');
    const daemonPid = (await readDaemonPid(home))!;
    process.kill(daemonPid, 'SIGKILL');
    await waitFor('the daemon to die', () => !alive(daemonPid));
    for (const p of before.processes) expect(alive(p.pid!)).toBe(true);

    agent = await connect(home);
    expect(await readDaemonPid(home)).not.toBe(daemonPid);
    const after = await statusOf(agent, 'dep-adopt');
    expect(after.state).toBe('ready');
    for (const p of after.processes) {
      const old = before.processes.find((x) => x.name === p.name)!;
      expect(p).toMatchObject({ state: 'ready', adopted: true, pid: old.pid, startTime: old.startTime });
    }

    // An adopted process is not our child: its death is seen through /proc, without an exit code.
    const victim = after.processes.find((p) => p.name === 'decode-0')!;
    process.kill(victim.pid!, 'SIGKILL');
    const crashed = await waitFor('the adopted process crash to be noticed', async () => {
      const p = await procStatus(agent, 'dep-adopt', 'decode-0');
      return p.state === 'crashed' ? p : null;
    });
    expect(crashed).toMatchObject({ exitKnown: false, exitCode: null, signal: null });
    expect(crashed.detail).toContain('exit code and signal are unknown');
    expect(agent.progress.find((p) => p.process === 'decode-0' && p.phase === 'exited')).toBeDefined();

    const survivor = after.processes.find((p) => p.name === 'prefill-0')!;
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-adopt', graceS: 5 });
    expect(liveInGroup(survivor.pid!)).toEqual([]);
    expect((await statusOf(agent, 'dep-adopt')).state).toBe('stopped');
  }, 60_000);

  it('a daemon killed in the middle of a start resumes it: the loading process is adopted and its dependents start once it is ready', async () => {
    const home = newHome();
    let agent = await connect(home);
    const slow = await fixtureProcess('prefill-0', { READY_AFTER_MS: '2500' });
    const router = await fixtureProcess('router', {}, { role: 'router', dependsOn: ['prefill-0'] });
    await agent.client.call('deploy.apply', deployment('dep-resume', [slow, router]));
    await waitFor('prefill-0 to be loading', () => agent.progress.some((p) => p.process === 'prefill-0' && p.phase === 'loading'));
    const daemonPid = (await readDaemonPid(home))!;
    process.kill(daemonPid, 'SIGKILL');
    await waitFor('the daemon to die', () => !alive(daemonPid));

    agent = await connect(home);
    const ready = await waitFor('the resumed deployment to be ready', async () => {
      const s = await statusOf(agent, 'dep-resume');
      return s.state === 'ready' ? s : null;
    });
    expect(ready.processes.find((p) => p.name === 'prefill-0')).toMatchObject({ adopted: true });
    expect(ready.processes.find((p) => p.name === 'router')).toMatchObject({ adopted: false, state: 'ready' });
    expect(agent.progress.filter((p) => p.deploymentId === 'dep-resume').map((p) => `${p.process}:${p.phase}`)).toEqual(
      expect.arrayContaining(['prefill-0:ready', 'router:starting', 'router:ready']),
    );
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-resume', graceS: 2 });
    for (const p of ready.processes) expect(liveInGroup(p.pid!)).toEqual([]);
  }, 60_000);

  it('a teardown during the start stops what runs and starts nothing more', async () => {
    const agent = await connect(newHome());
    const slow = await fixtureProcess('prefill-0', { NEVER_READY: '1' });
    const router = await fixtureProcess('router', {}, { role: 'router', dependsOn: ['prefill-0'] });
    await agent.client.call('deploy.apply', deployment('dep-abort', [slow, router]));
    const pid = (await waitFor('prefill-0 to start', async () => (await procStatus(agent, 'dep-abort', 'prefill-0')).pid))!;
    const down = await agent.client.call('deploy.teardown', { deploymentId: 'dep-abort', graceS: 2 });
    expect(down.state).toBe('stopped');
    expect(liveInGroup(pid)).toEqual([]);
    const s = await statusOf(agent, 'dep-abort');
    expect(s.processes.find((p) => p.name === 'router')).toMatchObject({ state: 'stopped', pid: null, detail: 'never started' });
    expect(agent.progress.some((p) => p.process === 'router' && p.phase === 'starting')).toBe(false);
    expect(agent.progress.some((p) => p.phase === 'failed')).toBe(false);
  }, 60_000);

  it('a second daemon that loses the start race adopts nothing: no restart, no state written', async () => {
    const home = newHome();
    const agent = await connect(home);
    const crasher = await fixtureProcess('decode-0', { CRASH_AFTER_MS: '1500' }, { restart: 'on-failure', maxRestarts: 3, restartBackoffS: 600 });
    const res = await agent.client.call('deploy.apply', deployment('dep-race', [crasher], { wait: true }));
    await waitFor('decode-0 to wait for its restart', async () => (await procStatus(agent, 'dep-race', 'decode-0')).state === 'restarting');
    const file = path.join(res.deployment.dir, 'state.json');
    const before = fs.readFileSync(file, 'utf8');

    const loser = spawn(process.execPath, [bundle, 'daemon', '--home', home], { stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => loser.once('exit', (c) => r(c)));
    expect(code).toBe(3);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const log = fs.readFileSync(path.join(home, 'agent.log'), 'utf8');
    expect(log).not.toMatch(new RegExp(`"msg":"re-adopted a deployment","pid":${loser.pid}`));
    expect(await procStatus(agent, 'dep-race', 'decode-0')).toMatchObject({ state: 'restarting', restarts: 0 });
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-race', graceS: 1 });
  }, 60_000);

  it('does not adopt a recycled pid (same pid, different start time), and never signals that process', async () => {
    const home = newHome();
    let agent = await connect(home);
    const a = await fixtureProcess('decode-0');
    const res = await agent.client.call('deploy.apply', deployment('dep-recycled', [a], { wait: true }));
    const orig = res.deployment.processes[0]!;
    const daemonPid = (await readDaemonPid(home))!;
    await stopDaemon(daemonPid);
    // A graceful daemon stop leaves deployments running.
    expect(alive(orig.pid!)).toBe(true);
    process.kill(-orig.pid!, 'SIGKILL');
    await waitFor('the process to die', () => !alive(orig.pid!));

    // Another process now has the recorded pid (simulated by pointing the state at an unrelated process).
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
    extraPids.push(stranger.pid!);
    const strangerStat = await waitFor('the stranger to start', () => readProcStat(stranger.pid!));
    const file = path.join(res.deployment.dir, 'state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { processes: Array<{ status: { pid: number; pgid: number; startTime: number } }> };
    state.processes[0]!.status.pid = stranger.pid!;
    state.processes[0]!.status.pgid = stranger.pid!;
    expect(state.processes[0]!.status.startTime).not.toBe(strangerStat.startTime);
    fs.writeFileSync(file, JSON.stringify(state));

    agent = await connect(home);
    const p = await waitFor('the lost process to be reported', async () => {
      const s = await procStatus(agent, 'dep-recycled', 'decode-0');
      return s.state === 'crashed' ? s : null;
    });
    expect(p).toMatchObject({ adopted: false, exitKnown: false, pid: stranger.pid });
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-recycled', graceS: 1 });
    expect(alive(stranger.pid!)).toBe(true);
  }, 60_000);

  it('rotates a growing log, keeping the configured number of files, and tails across the rotation', async () => {
    const agent = await connect(newHome());
    const chatty = await fixtureProcess('decode-0', { LOG_EVERY_MS: '2', LOG_PAD: '200' });
    const res = await agent.client.call('deploy.apply', deployment('dep-logs', [chatty], { wait: true, logs: { maxBytes: 16 * 1024, keep: 2 } }));
    const file = res.deployment.processes[0]!.logFile;
    await waitFor('two rotated files', () => fs.existsSync(`${file}.2`), 30_000);
    const firstOfTwo = fs.readFileSync(`${file}.2`, 'utf8').split('\n')[0];
    await waitFor('another rotation', () => fs.existsSync(`${file}.2`) && fs.readFileSync(`${file}.2`, 'utf8').split('\n')[0] !== firstOfTwo, 30_000);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    // A rotation in progress may briefly hold `.1.tmp` or lack `.1`; whatever the moment, there is never a third rotated file.
    expect(fs.readdirSync(path.dirname(file)).filter((n) => !n.endsWith('.tmp') && n !== 'decode-0.log.1')).toEqual(['decode-0.log', 'decode-0.log.2']);
    const tail = await agent.client.call('logs.tail', { deploymentId: 'dep-logs', lines: 300 });
    expect(tail.logs[0]!.lines).toHaveLength(300);
    // Copy-then-truncate can drop a line written in between (the process keeps its descriptor), so: in order, not necessarily gapless.
    const ticks = tail.logs[0]!.lines.map((l) => Number(/^tick (\d+)/.exec(l)?.[1]));
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]!);
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-logs', graceS: 2 });
  }, 90_000);

  it('logs.tail with follow streams new lines in order until logs.unfollow', async () => {
    const agent = await connect(newHome());
    const ticker = await fixtureProcess('decode-0', { LOG_EVERY_MS: '50' });
    await agent.client.call('deploy.apply', deployment('dep-follow', [ticker], { wait: true }));
    await waitFor('a few ticks', async () => {
      const t = await agent.client.call('logs.tail', { deploymentId: 'dep-follow', process: 'decode-0', lines: 3 });
      return t.logs[0]!.lines.some((l) => l.startsWith('tick 3')) ? t : null;
    });
    const res = await agent.client.call('logs.tail', { deploymentId: 'dep-follow', process: 'decode-0', lines: 3, follow: true });
    expect(res.logs[0]!.lines).toHaveLength(3);
    expect(res.followId).toBeTruthy();
    const lastTailed = Number(/^tick (\d+)/.exec(res.logs[0]!.lines.at(-1)!)![1]);
    await waitFor('followed lines', () => agent.lines.length >= 10);
    const followed = agent.lines.map((l) => Number(/^tick (\d+)/.exec(l.line)![1]));
    // No gap and no duplicate between the tail and the followed lines.
    expect(followed[0]).toBe(lastTailed + 1);
    for (let i = 1; i < followed.length; i++) expect(followed[i]).toBe(followed[i - 1]! + 1);
    expect(agent.lines[0]).toMatchObject({ process: 'decode-0', followId: res.followId });
    expect(await agent.client.call('logs.unfollow', { followId: res.followId! })).toEqual({ ok: true });
    expect(await agent.client.call('logs.unfollow', { followId: res.followId! })).toEqual({ ok: false });
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-follow', graceS: 2 });
  }, 60_000);

  it('samples /metrics while watched: rates, TTFT percentiles from histogram deltas, KV usage and KV bytes/s', async () => {
    const agent = await connect(newHome());
    const worker = await fixtureProcess('decode-0');
    await agent.client.call('deploy.apply', deployment('dep-metrics', [worker], { wait: true }));
    const first = await agent.client.call('deploy.metrics', { deploymentId: 'dep-metrics' });
    expect(first.samples).toHaveLength(1);
    expect(first.samples[0]!.perProcess['decode-0']).toEqual({ requestsRunning: 3, requestsWaiting: 1, kvCacheUsagePct: 25 });
    const w = await agent.client.call('deploy.watch', { deploymentId: 'dep-metrics' });
    expect(w.intervalMs).toBe(1000);
    await waitFor('two samples', () => agent.samples.length >= 2);
    const s = agent.samples[1]!.perProcess['decode-0']!;
    expect(s.requestsPerS).toBeGreaterThan(0);
    expect(s.kvBytesPerS).toBeGreaterThan(0);
    // Every observation of the interval fell in (0.05, 0.1]: p50 and p99 interpolate inside it.
    expect(s.ttftP50Ms).toBeCloseTo(75, 6);
    expect(s.ttftP99Ms).toBeCloseTo(99.5, 6);
    expect(await agent.client.call('deploy.unwatch', { watchId: w.watchId })).toEqual({ ok: true });
    const recent = await agent.client.call('deploy.metrics', { deploymentId: 'dep-metrics', last: 5 });
    expect(recent.samples.length).toBeGreaterThanOrEqual(3);
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-metrics', graceS: 2 });
  }, 60_000);

  it('runs the mocker and the router from the installed agent via @handoff-agent and samples both', async () => {
    const agent = await connect(newHome());
    const [mp, rp] = [await freePort(), await freePort()];
    const nixl = path.join(tmp, 'nixl-mocker');
    const mocker: LaunchProcessInput = {
      name: 'worker-0',
      role: 'worker',
      argv: ['@handoff-agent', 'mocker', 'm', '--port', String(mp)],
      env: {},
      port: mp,
      readiness: { url: `http://127.0.0.1:${mp}/health`, timeoutS: 60 },
      cleanupPaths: [nixl],
    };
    const router: LaunchProcessInput = {
      name: 'router',
      role: 'router',
      argv: ['@handoff-agent', 'router', '--port', String(rp), '--mode', 'aggregated', '--worker', `http://127.0.0.1:${mp}`],
      env: {},
      port: rp,
      readiness: { url: `http://127.0.0.1:${rp}/health`, timeoutS: 60 },
      dependsOn: ['worker-0'],
    };
    const res = await agent.client.call('deploy.apply', deployment('dep-mocker', [mocker, router], { wait: true }));
    expect(res.state).toBe('ready');
    const w = await agent.client.call('deploy.watch', { deploymentId: 'dep-mocker' });
    const chat = async () => {
      const r = await fetch(`http://127.0.0.1:${rp}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 8 }),
      });
      expect(r.status).toBe(200);
      await r.json();
    };
    const sample = await waitFor('a sample with router and worker traffic', async () => {
      await chat();
      return agent.samples.find((s) => (s.perProcess.router?.requestsPerS ?? 0) > 0 && (s.perProcess['worker-0']?.generationTokensPerS ?? 0) > 0);
    });
    expect(sample.perProcess['worker-0']).toHaveProperty('kvCacheUsagePct');
    expect(sample.perProcess.router).toHaveProperty('outstandingRequests');
    await agent.client.call('deploy.unwatch', { watchId: w.watchId });
    const pids = (await statusOf(agent, 'dep-mocker')).processes.map((p) => p.pid!);
    await agent.client.call('deploy.teardown', { deploymentId: 'dep-mocker', graceS: 5 });
    for (const pid of pids) expect(liveInGroup(pid)).toEqual([]);
  }, 90_000);

  it('answers malformed or impossible requests with clear errors and starts nothing', async () => {
    const agent = await connect(newHome());
    const ok = await fixtureProcess('a');
    const call = (params: unknown) => agent.client.request('deploy.apply', params);
    await expectRpcError(call({ deploymentId: '../etc', name: 'x', simulated: false, spec: null, processes: [ok] }), 'invalid-params', /deploymentId: use 1–128 letters/);
    await expectRpcError(call({ deploymentId: 'd', name: 'x', simulated: false, spec: null, processes: [] }), 'invalid-params', /processes: a deployment needs at least one process/);
    await expectRpcError(call(deployment('d', [ok, { ...ok }])), 'invalid-params', /process name "a" is used twice/);
    await expectRpcError(call(deployment('d', [{ ...ok, dependsOn: ['ghost'] }])), 'invalid-params', /"a" depends on "ghost", which is not a process of this deployment/);
    const b = await fixtureProcess('b', {}, { dependsOn: ['a'] });
    await expectRpcError(call(deployment('d', [{ ...ok, dependsOn: ['b'] }, b])), 'invalid-params', /dependsOn forms a cycle: a → b → a/);
    await expectRpcError(call(deployment('d', [{ ...ok, argv: [] }])), 'invalid-params', /argv: argv needs at least the program/);
    await expectRpcError(call(deployment('d', [{ ...ok, readiness: { url: 'not a url', timeoutS: 5 } }])), 'invalid-params', /readiness\.url/);
    await expectRpcError(call(deployment('d', [{ ...ok, cleanupPaths: ['/'] }])), 'invalid-params', /cleanupPaths\.0: must be an absolute path at least two levels deep/);
    await expectRpcError(call(deployment('d', [{ ...ok, restart: 'always' as 'off' }])), 'invalid-params', /restart/);
    await expectRpcError(agent.client.request('deploy.teardown', { deploymentId: 'd', graceS: -1 }), 'invalid-params', /graceS/);
    await expectRpcError(agent.client.request('deploy.status', { deploymentId: 'nope' }), 'unknown-deployment', /no deployment "nope"/);
    await expectRpcError(agent.client.request('logs.tail', { deploymentId: 'nope' }), 'unknown-deployment', /no deployment "nope"/);

    // A port something already listens on: a stale server would pass the readiness probe.
    const squatter = net.createServer().listen(ok.port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      await expectRpcError(call(deployment('d', [ok])), 'port-in-use', new RegExp(`Nothing was started: port ${ok.port} of "a" already accepts connections`));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    expect((await agent.client.call('deploy.status', {})).deployments).toEqual([]);

    // A program that does not exist fails its start with a clear message.
    const missing = await fixtureProcess('missing', {}, { argv: ['/nonexistent/vllm', 'serve'] });
    const res = await agent.client.call('deploy.apply', deployment('d-missing', [missing], { wait: true }));
    expect(res.state).toBe('failed');
    expect(res.deployment.processes[0]!.detail).toMatch(/could not start "\/nonexistent\/vllm": .*ENOENT.*Check that it is installed/);

    // A running deployment cannot be applied twice, or removed; an unknown process has no log.
    await agent.client.call('deploy.apply', deployment('d-running', [ok], { wait: true }));
    await expectRpcError(call(deployment('d-running', [ok])), 'deployment-exists', /already exists on this host and is ready/);
    await expectRpcError(agent.client.request('deploy.remove', { deploymentId: 'd-running' }), 'deployment-running', /tear it down first/);
    await expectRpcError(agent.client.request('logs.tail', { deploymentId: 'd-running', process: 'ghost' }), 'unknown-process', /has no process "ghost"; it has a/);
    await agent.client.call('deploy.teardown', { deploymentId: 'd-running', graceS: 2 });
    expect(await agent.client.call('deploy.remove', { deploymentId: 'd-running' })).toEqual({ removed: true });
    await expectRpcError(agent.client.request('deploy.status', { deploymentId: 'd-running' }), 'unknown-deployment', /no deployment/);
  }, 60_000);
});
