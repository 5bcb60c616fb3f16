import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { unstartedProcessStatus, type DeployApplyParams, type DeploymentState, type DeploymentStatus, type DeployProgress, type LaunchProcess, type LogLimits, type ProcessStatus } from '../../common/deploy-rpc';
import { UserFacingError } from '../../common/errors';
import { errorFields, type AgentLogger } from '../rpc/agent-logger';
import {
  deploymentDir,
  loadRecords,
  logFile,
  metricsUrlOf,
  restartRule,
  STATE_FILE_VERSION,
  writeRecordAtomic,
  type DeploymentRecord,
} from './deployment-record';
import { portAnswers, probeStatus } from './http-probe';
import { appendLogNote, lastLogLines, openLogForChild, rotateIfLarge } from './log-files';
import { groupMembers, listProcStats, readBootId, readProcStat, sameProcessAlive, signalQuietly, type ProcStat } from './proc-table';

/**
 * The supervisor: starts a deployment's processes in dependency order, each in its own process
 * group with its log in a rotating file, waits for readiness, detects crashes, restarts per
 * policy, tears down by process group, and keeps its state on disk so that a new daemon re-adopts
 * live processes by pid + start time. Notifications go out through `emit` (deploy.progress).
 */

export const AGENT_ARGV0 = '@handoff-agent';
const LAST_LINES_AT_EXIT = 50;
const MAX_BACKOFF_S = 60;
/** SIGTERM grace for a process whose start failed or that crashed and left group members behind. */
const CLEANUP_GRACE_MS = 3_000;
/** After SIGKILL the kernel still needs a moment (D state, core dumps) before the processes are gone. */
const AFTER_KILL_WAIT_MS = 10_000;

export interface SupervisorOptions {
  deploymentsDir: string;
  log: AgentLogger;
  /** Broadcast to every attached client. */
  emit(method: string, params: unknown): void;
  /** What replaces `@handoff-agent` in argv[0]: the agent's runtime and bundle. */
  agentCommand: string[];
  /** Liveness poll for re-adopted processes (not our children, so no exit event). */
  adoptedPollMs?: number;
  /** How often log sizes are checked for rotation. */
  rotateCheckMs?: number;
}

type Settled = 'ready' | 'failed';

class ProcRuntime {
  child: ChildProcess | null = null;
  /** Increments on every spawn; callbacks of an older attempt are ignored. */
  attempt = 0;
  /** Teardown or a failed start is killing it: its exit is not a crash. */
  expectingExit = false;
  restartTimer: NodeJS.Timeout | null = null;
  livenessTimer: NodeJS.Timeout | null = null;
  /** First outcome of the start (dependents wait for it); null while undecided. */
  settled: Settled | null = null;
  private readonly waiters: Array<(s: Settled) => void> = [];

  constructor(
    readonly launch: LaunchProcess,
    public status: ProcessStatus,
  ) {}

  whenSettled(): Promise<Settled> {
    if (this.settled) return Promise.resolve(this.settled);
    return new Promise((r) => this.waiters.push(r));
  }

  settle(s: Settled): void {
    if (this.settled) return;
    this.settled = s;
    for (const w of this.waiters.splice(0)) w(s);
  }

  clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.restartTimer = null;
    this.livenessTimer = null;
  }
}

export class DeploymentRuntime {
  readonly procs: ProcRuntime[];
  state: DeploymentState;
  error: string | null;
  updatedAt: string;
  stoppedAt: string | null;
  teardownPromise: Promise<TeardownOutcome> | null = null;
  /** Set when a teardown begins and kept if it fails, so nothing restarts meanwhile. */
  tearingDown = false;

  constructor(
    readonly id: string,
    readonly dir: string,
    readonly name: string,
    readonly simulated: boolean,
    readonly spec: unknown,
    readonly logs: LogLimits,
    readonly createdAt: string,
    procs: ProcRuntime[],
    state: DeploymentState,
  ) {
    this.procs = procs;
    this.state = state;
    this.error = null;
    this.updatedAt = createdAt;
    this.stoppedAt = null;
  }

  proc(name: string): ProcRuntime | undefined {
    return this.procs.find((p) => p.launch.name === name);
  }

  get stopping(): boolean {
    return this.tearingDown || this.state === 'stopped';
  }
}

export interface TeardownOutcome {
  deploymentId: string;
  state: DeploymentState;
  killed: string[];
  removedPaths: string[];
}

const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Supervisor {
  private readonly deployments = new Map<string, DeploymentRuntime>();
  private readonly log: AgentLogger;
  private readonly bootId = readBootId();
  private rotateTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.log = opts.log;
  }

  /** Loads every state.json and re-adopts what still runs; starts the log rotation check. */
  start(): void {
    fs.mkdirSync(this.opts.deploymentsDir, { recursive: true, mode: 0o700 });
    for (const loaded of loadRecords(this.opts.deploymentsDir)) {
      if ('error' in loaded) {
        this.log.warn('ignoring a deployment whose state file is unreadable', { dir: loaded.dir, problem: loaded.error });
        continue;
      }
      try {
        this.adopt(loaded.dir, loaded.record);
      } catch (err) {
        this.log.error('could not re-adopt a deployment', { dir: loaded.dir, ...errorFields(err) });
      }
    }
    this.rotateTimer = setInterval(() => this.rotateLogs(), this.opts.rotateCheckMs ?? 1_000);
    this.rotateTimer.unref();
  }

  /** Daemon shutdown: stop watching, keep every process running (a successor re-adopts them). */
  close(): void {
    this.closed = true;
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    for (const d of this.deployments.values()) {
      for (const p of d.procs) {
        p.clearTimers();
        p.child?.removeAllListeners('exit');
        p.child?.unref();
      }
      this.persist(d);
    }
  }

  get(id: string): DeploymentRuntime {
    const d = this.deployments.get(id);
    if (!d) {
      const known = [...this.deployments.keys()];
      throw new UserFacingError('unknown-deployment', `This host has no deployment "${id}"${known.length ? ` (it has: ${known.join(', ')})` : ''}. List them with "handoff deployments".`);
    }
    return d;
  }

  list(): DeploymentRuntime[] {
    return [...this.deployments.values()];
  }

  status(d: DeploymentRuntime): DeploymentStatus {
    return {
      deploymentId: d.id,
      name: d.name,
      simulated: d.simulated,
      state: d.state,
      error: d.error,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      stoppedAt: d.stoppedAt,
      dir: d.dir,
      spec: d.spec,
      processes: d.procs.map((p) => ({ ...p.status })),
    };
  }

  // ---------------------------------------------------------------- apply

  async apply(params: DeployApplyParams): Promise<DeploymentRuntime> {
    const listening = await this.listeningPorts(params);
    // From here on nothing awaits until the deployment is registered, so two concurrent applies cannot both pass these checks.
    const existing = this.deployments.get(params.deploymentId);
    if (existing && existing.state !== 'stopped') {
      throw new UserFacingError(
        'deployment-exists',
        `Deployment "${params.deploymentId}" already exists on this host and is ${existing.state}. Tear it down first ("handoff down ${params.deploymentId}") or deploy under another id.`,
      );
    }
    this.checkPorts(params, listening);
    const dir = deploymentDir(this.opts.deploymentsDir, params.deploymentId);
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o700 });
    // NIXL opens its telemetry file with O_CREAT but does not create the directory (docs/nixl-telemetry.md).
    for (const l of params.processes) if (l.env['NIXL_TELEMETRY_DIR']?.startsWith('/')) fs.mkdirSync(l.env['NIXL_TELEMETRY_DIR'], { recursive: true, mode: 0o700 });
    const createdAt = now();
    const procs = params.processes.map((launch) => new ProcRuntime(launch, this.initialStatus(dir, launch)));
    const d = new DeploymentRuntime(params.deploymentId, dir, params.name, params.simulated, params.spec, params.logs, createdAt, procs, 'starting');
    this.deployments.set(d.id, d);
    this.log.info('deployment applied', { deployment: d.id, processes: procs.map((p) => p.launch.name) });
    this.persist(d);
    for (const p of procs) void this.startWhenDepsReady(d, p);
    if (params.wait) await Promise.all(procs.map((p) => p.whenSettled()));
    return d;
  }

  private initialStatus(dir: string, launch: LaunchProcess): ProcessStatus {
    return unstartedProcessStatus({
      name: launch.name,
      role: launch.role,
      state: 'pending',
      exitKnown: true,
      detail: launch.dependsOn.length ? `waiting for ${launch.dependsOn.join(', ')}` : null,
      port: launch.port,
      readinessUrl: launch.readiness.url,
      metricsUrl: metricsUrlOf(launch),
      logFile: logFile(dir, launch.name),
    });
  }

  /** Problems with ports something already listens on: a stale server would pass our readiness probe. */
  private async listeningPorts(params: DeployApplyParams): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      params.processes.map(async (launch) => {
        const host = new URL(launch.readiness.url).hostname.replace(/^\[|\]$/g, '');
        if (await portAnswers(host, launch.port)) problems.push(`port ${launch.port} of "${launch.name}" already accepts connections on ${host}`);
      }),
    );
    return problems;
  }

  /** Refuses ports held by another live deployment here, or already listening. */
  private checkPorts(params: DeployApplyParams, listening: string[]): void {
    const problems: string[] = [];
    for (const launch of params.processes) {
      for (const other of this.deployments.values()) {
        if (other.state === 'stopped' || other.id === params.deploymentId) continue;
        const clash = other.procs.find((p) => p.launch.port === launch.port);
        if (clash) problems.push(`port ${launch.port} of "${launch.name}" is used by "${clash.launch.name}" of deployment "${other.id}"`);
      }
    }
    problems.push(...listening);
    if (problems.length) {
      throw new UserFacingError(
        'port-in-use',
        `Nothing was started: ${problems.join('; ')}. Stop what listens there ("handoff deployments" lists deployments) or choose other ports.`,
        { problems },
      );
    }
  }

  private async startWhenDepsReady(d: DeploymentRuntime, p: ProcRuntime): Promise<void> {
    try {
      const deps = p.launch.dependsOn.map((n) => d.proc(n)).filter((x): x is ProcRuntime => x !== undefined);
      const outcomes = await Promise.all(deps.map(async (dep) => [dep.launch.name, await dep.whenSettled()] as const));
      if (d.stopping || this.closed || p.status.state !== 'pending') return;
      const failed = outcomes.filter(([, s]) => s === 'failed').map(([n]) => n);
      if (failed.length) {
        p.status = { ...p.status, state: 'failed', detail: `not started: ${failed.join(', ')} did not become ready` };
        p.settle('failed');
        this.changed(d, p, 'failed', p.status.detail ?? undefined);
        return;
      }
      this.spawnAttempt(d, p);
    } catch (err) {
      this.log.error('start sequence failed', { deployment: d.id, process: p.launch.name, ...errorFields(err) });
    }
  }

  private resolveArgv(launch: LaunchProcess): string[] {
    const argv = launch.argv[0] === AGENT_ARGV0 ? [...this.opts.agentCommand, ...launch.argv.slice(1)] : launch.argv;
    // taskset sets the CPU set and execs the program: same pid, same process group, children inherit it.
    return launch.cpus !== undefined ? ['taskset', '-c', launch.cpus, ...argv] : argv;
  }

  private spawnAttempt(d: DeploymentRuntime, p: ProcRuntime): void {
    const attempt = ++p.attempt;
    p.expectingExit = false;
    const launch = p.launch;
    const [cmd, ...args] = this.resolveArgv(launch) as [string, ...string[]];
    const cwd = launch.cwd ?? d.dir;
    const file = p.status.logFile;
    const base = { ...p.status, pid: null, pgid: null, startTime: null, exitCode: null, signal: null, exitedAt: null, exitKnown: true, adopted: false, lastLogLines: [] };
    if (!fs.existsSync(cwd)) {
      void this.failStart(d, p, `could not start: its working directory ${cwd} does not exist`, base);
      return;
    }
    appendLogNote(file, `--- handoff: ${now()} starting ${launch.name} (attempt ${p.status.restarts + 1}): ${JSON.stringify([cmd, ...args])}`);
    let child: ChildProcess;
    const fd = openLogForChild(file);
    try {
      // detached: setsid, so the process leads its own session and group; teardown signals the group.
      child = spawn(cmd, args, { cwd, env: { ...process.env, ...launch.env }, stdio: ['ignore', fd, fd], detached: true });
    } catch (err) {
      void this.failStart(d, p, `could not start "${cmd}": ${err instanceof Error ? err.message : String(err)}`, base);
      return;
    } finally {
      fs.closeSync(fd);
    }
    child.once('error', (err) => {
      if (p.attempt !== attempt || child.pid !== undefined) return;
      const why =
        launch.cpus !== undefined && cmd === 'taskset'
          ? `could not pin it to CPUs ${launch.cpus}: taskset is not on the agent's PATH (${err.message}). Install util-linux on the host, or remove \`cpus\` from the spec.`
          : `could not start "${cmd}": ${err.message}. Check that it is installed and on the agent's PATH, or give an absolute path.`;
      void this.failStart(d, p, why, base);
    });
    if (child.pid === undefined) return; // the 'error' event follows
    const pid = child.pid;
    child.unref();
    p.child = child;
    child.once('exit', (code, signal) => this.onExit(d, p, attempt, code, signal, true));
    const stat = readProcStat(pid);
    p.status = { ...base, state: 'starting', pid, pgid: pid, startTime: stat?.startTime ?? null, startedAt: now(), detail: `started as pid ${pid}` };
    this.changed(d, p, 'starting', `pid ${pid}: ${[cmd, ...args].join(' ')}`);
    void this.awaitReady(d, p, attempt);
  }

  /** Probes the readiness URL until 200, the timeout (measured from the process start), an exit, or teardown. */
  private async awaitReady(d: DeploymentRuntime, p: ProcRuntime, attempt: number): Promise<void> {
    const url = p.launch.readiness.url;
    const timeoutS = p.launch.readiness.timeoutS;
    const startedMs = p.status.startedAt ? Date.parse(p.status.startedAt) : Date.now();
    const deadline = startedMs + timeoutS * 1000;
    const current = () => p.attempt === attempt && !d.stopping && !this.closed && (p.status.state === 'starting' || p.status.state === 'loading');
    for (;;) {
      if (!current()) return;
      const code = await probeStatus(url);
      if (!current()) return;
      if (code === 200) {
        p.status = { ...p.status, state: 'ready', readyAt: now(), detail: null };
        p.settle('ready');
        this.changed(d, p, 'ready');
        return;
      }
      const last = code === null ? 'nothing listening yet' : `HTTP ${code}`;
      if (p.status.state === 'starting') {
        p.status = { ...p.status, state: 'loading', detail: `waiting for GET ${url} to answer 200 (${last})` };
        this.changed(d, p, 'loading', p.status.detail ?? undefined);
      }
      if (Date.now() >= deadline) {
        await this.failStart(d, p, `did not become ready: GET ${url} did not answer 200 within ${timeoutS} s (last probe: ${last}). Its log is ${p.status.logFile}`);
        return;
      }
      const elapsedS = (Date.now() - startedMs) / 1000;
      await sleep(Math.min(elapsedS < 5 ? 200 : elapsedS < 60 ? 500 : 1000, Math.max(10, deadline - Date.now())));
    }
  }

  /** A start that cannot succeed: stop what it left running, keep its last log lines, fail it (dependents are not started). */
  private async failStart(d: DeploymentRuntime, p: ProcRuntime, detail: string, base?: ProcessStatus): Promise<void> {
    p.expectingExit = true;
    p.clearTimers();
    if (base) p.status = base;
    if (p.status.pid !== null) {
      try {
        await this.killGroups([p], CLEANUP_GRACE_MS);
      } catch (err) {
        this.log.error('could not stop a process whose start failed', { deployment: d.id, process: p.launch.name, ...errorFields(err) });
      }
    }
    // A teardown that began meanwhile owns the final state.
    if (d.stopping) return;
    p.status = { ...p.status, state: 'failed', detail, lastLogLines: lastLogLines(p.status.logFile, LAST_LINES_AT_EXIT) };
    appendLogNote(p.status.logFile, `--- handoff: ${now()} ${p.launch.name} ${detail}`);
    p.settle('failed');
    this.changed(d, p, 'failed', detail);
  }

  private onExit(d: DeploymentRuntime, p: ProcRuntime, attempt: number, code: number | null, signal: NodeJS.Signals | null, known: boolean, reason?: string): void {
    if (p.attempt !== attempt) return;
    p.child = null;
    if (p.livenessTimer) clearInterval(p.livenessTimer);
    p.livenessTimer = null;
    p.status = { ...p.status, exitCode: code, signal, exitKnown: known, exitedAt: now() };
    if (p.expectingExit || d.stopping || this.closed) {
      this.persist(d);
      return;
    }
    const clean = known && code === 0;
    const how = reason
      ? reason
      : !known
      ? `exited while not a child of this agent daemon (it was re-adopted, or exited while the agent was down): exit code and signal are unknown`
      : signal
        ? `was killed by ${signal}`
        : `exited with code ${code}`;
    const wasReady = p.status.state === 'ready';
    const lines = lastLogLines(p.status.logFile, LAST_LINES_AT_EXIT);
    appendLogNote(p.status.logFile, `--- handoff: ${now()} ${p.launch.name} ${how}`);
    p.status = { ...p.status, state: clean ? 'exited' : 'crashed', detail: `${wasReady ? '' : 'during start: '}${how}`, lastLogLines: lines };
    this.log.warn('process exited unexpectedly', { deployment: d.id, process: p.launch.name, pid: p.status.pid, code, signal, known });
    this.changed(d, p, 'exited', p.status.detail ?? undefined);
    void this.afterCrash(d, p, attempt, clean);
  }

  /** Kills what the dead process left in its group (vLLM workers hold GPU memory), then restarts per policy. */
  private async afterCrash(d: DeploymentRuntime, p: ProcRuntime, attempt: number, clean: boolean): Promise<void> {
    try {
      await this.killGroups([p], CLEANUP_GRACE_MS);
    } catch (err) {
      this.log.error('could not stop what a crashed process left behind', { deployment: d.id, process: p.launch.name, ...errorFields(err) });
    }
    if (p.attempt !== attempt || d.stopping || this.closed) return;
    const rule = restartRule(p.launch);
    if (rule.policy === 'on-failure' && !clean && p.status.restarts < rule.maxRestarts) {
      const delayS = Math.min(rule.backoffS * 2 ** p.status.restarts, MAX_BACKOFF_S);
      p.status = { ...p.status, state: 'restarting', detail: `restart ${p.status.restarts + 1} of ${rule.maxRestarts} in ${delayS} s (${p.status.detail ?? 'crashed'})` };
      this.changed(d, p, 'restarting', p.status.detail ?? undefined);
      p.restartTimer = setTimeout(() => this.restartNow(d, p), delayS * 1000);
      return;
    }
    if (rule.policy === 'on-failure' && !clean) {
      p.status = { ...p.status, detail: `${p.status.detail ?? 'crashed'}; not restarted: ${rule.maxRestarts} restarts used` };
      this.persist(d);
    }
    // A process that never became ready fails its start; one that was ready leaves the deployment degraded.
    p.settle('failed');
    this.persist(d);
  }

  private restartNow(d: DeploymentRuntime, p: ProcRuntime): void {
    p.restartTimer = null;
    if (d.stopping || this.closed || p.status.state !== 'restarting') return;
    p.status = { ...p.status, restarts: p.status.restarts + 1 };
    this.spawnAttempt(d, p);
  }

  // ---------------------------------------------------------------- teardown

  teardown(d: DeploymentRuntime, graceS: number): Promise<TeardownOutcome> {
    d.teardownPromise ??= this.doTeardown(d, graceS).catch((err: unknown) => {
      // Let a retry try again.
      d.teardownPromise = null;
      throw err;
    });
    return d.teardownPromise;
  }

  private async doTeardown(d: DeploymentRuntime, graceS: number): Promise<TeardownOutcome> {
    d.tearingDown = true;
    this.log.info('tearing down', { deployment: d.id, graceS });
    for (const p of d.procs) {
      p.clearTimers();
      p.expectingExit = true;
      p.settle('failed');
    }
    const live = d.procs.filter((p) => p.status.pid !== null && groupMembers(p.status.pid, p.status.startTime).length > 0);
    for (const p of live) {
      p.status = { ...p.status, state: 'stopping', detail: `SIGTERM sent; SIGKILL after ${graceS} s` };
      this.changed(d, p, 'stopping', p.status.detail ?? undefined);
    }
    if (!live.length) this.setState(d, 'stopping');
    const killed = await this.killGroups(d.procs, graceS * 1000);
    const removedPaths: string[] = [];
    for (const p of d.procs) {
      for (const target of p.launch.cleanupPaths) {
        if (!fs.existsSync(target)) continue;
        try {
          fs.rmSync(target, { recursive: true, force: true });
          removedPaths.push(target);
        } catch (err) {
          this.log.warn('could not remove a cleanup path', { deployment: d.id, path: target, ...errorFields(err) });
        }
      }
    }
    const stoppedAt = now();
    // Before the per-process events, so each carries the final deployment state.
    d.stoppedAt = stoppedAt;
    d.state = 'stopped';
    for (const p of d.procs) {
      const wasRunning = p.status.state !== 'pending' && p.status.state !== 'stopped';
      p.status = {
        ...p.status,
        state: 'stopped',
        detail: killed.includes(p.launch.name) ? `stopped with SIGKILL after the ${graceS} s grace period` : p.status.state === 'pending' ? 'never started' : 'stopped',
      };
      if (wasRunning) appendLogNote(p.status.logFile, `--- handoff: ${stoppedAt} ${p.launch.name} ${p.status.detail}`);
      this.changed(d, p, 'stopped', p.status.detail ?? undefined);
    }
    this.persist(d);
    this.log.info('torn down', { deployment: d.id, killed, removedPaths });
    return { deploymentId: d.id, state: d.state, killed, removedPaths };
  }

  /**
   * SIGTERM to each process's group (and to descendants that left it), SIGKILL to whatever is left
   * after the grace period, then waits until /proc shows none of them. Returns the names that
   * needed SIGKILL; throws when something survives even SIGKILL.
   */
  private async killGroups(procs: ProcRuntime[], graceMs: number): Promise<string[]> {
    // Descendants that moved to their own session lose their parent link once the parent dies; remember them by pid + start time.
    const tracked = new Map<number, { startTime: number; owner: ProcRuntime }>();
    const survey = (): Map<ProcRuntime, ProcStat[]> => {
      const table = listProcStats();
      const byPid = new Map(table.map((s) => [s.pid, s]));
      const out = new Map<ProcRuntime, ProcStat[]>();
      for (const p of procs) {
        if (p.status.pid === null) continue;
        const members = groupMembers(p.status.pid, p.status.startTime, table);
        for (const m of members) if (!tracked.has(m.pid)) tracked.set(m.pid, { startTime: m.startTime, owner: p });
        if (members.length) out.set(p, members);
      }
      for (const [pid, t] of tracked) {
        const s = byPid.get(pid);
        if (!s || s.startTime !== t.startTime || s.state === 'Z') continue;
        const list = out.get(t.owner) ?? [];
        if (!list.some((m) => m.pid === pid)) list.push(s);
        out.set(t.owner, list);
      }
      return out;
    };
    const signalAll = (live: Map<ProcRuntime, ProcStat[]>, sig: NodeJS.Signals) => {
      for (const [p, members] of live) {
        const pgid = p.status.pid!;
        signalQuietly(-pgid, sig);
        for (const m of members) if (m.pgid !== pgid) signalQuietly(m.pid, sig);
      }
    };
    let live = survey();
    if (live.size === 0) return [];
    signalAll(live, 'SIGTERM');
    const termDeadline = Date.now() + graceMs;
    while (live.size && Date.now() < termDeadline) {
      await sleep(Math.min(100, Math.max(1, termDeadline - Date.now())));
      live = survey();
    }
    const killed = [...live.keys()].map((p) => p.launch.name);
    if (live.size === 0) return killed;
    this.log.warn('SIGKILL after the grace period', { processes: killed });
    signalAll(live, 'SIGKILL');
    const killDeadline = Date.now() + AFTER_KILL_WAIT_MS;
    while (live.size && Date.now() < killDeadline) {
      await sleep(50);
      live = survey();
      signalAll(live, 'SIGKILL');
    }
    if (live.size) {
      const left = [...live.entries()].map(([p, ms]) => `${p.launch.name}: pids ${ms.map((m) => `${m.pid} (state ${m.state})`).join(', ')}`);
      throw new UserFacingError(
        'teardown-incomplete',
        `Some processes survived SIGKILL for ${AFTER_KILL_WAIT_MS / 1000} s (${left.join('; ')}); they are usually stuck in the kernel (state D, e.g. a hung GPU driver call). Run the teardown again; if they stay, the host may need a GPU reset or reboot.`,
        { left },
      );
    }
    return killed;
  }

  /** Forgets a stopped deployment and deletes its directory. */
  remove(d: DeploymentRuntime): void {
    if (d.state !== 'stopped') {
      throw new UserFacingError('deployment-running', `Deployment "${d.id}" is ${d.state}; tear it down first ("handoff down ${d.id}"), then remove it.`);
    }
    fs.rmSync(d.dir, { recursive: true, force: true });
    this.deployments.delete(d.id);
  }

  // ---------------------------------------------------------------- re-adoption

  /** Rebuilds a deployment from its state file: live processes (same pid, same start time, same boot) are adopted, the rest are crashes. */
  private adopt(dir: string, record: DeploymentRecord): void {
    const procs = record.processes.map((sp) => new ProcRuntime(sp.launch, { ...sp.status }));
    const d = new DeploymentRuntime(record.deploymentId, dir, record.name, record.simulated, record.spec, record.logs, record.createdAt, procs, record.state);
    d.error = record.error;
    d.updatedAt = record.updatedAt;
    d.stoppedAt = record.stoppedAt;
    this.deployments.set(d.id, d);
    const sameBoot = record.bootId === this.bootId;
    if (!sameBoot) {
      // Pids and start times of another boot name nothing of ours: never signal them.
      for (const p of procs) p.status = { ...p.status, pid: null, pgid: null, startTime: null };
    }
    if (record.state === 'stopped') {
      for (const p of procs) p.settle('failed');
      return;
    }
    const resumed: string[] = [];
    for (const p of procs) {
      const s = p.status;
      p.attempt = 1;
      if (s.readyAt !== null && s.state === 'ready') p.settle('ready');
      if (s.state === 'failed' || s.state === 'stopped') p.settle('failed');
      if (s.state === 'crashed' || s.state === 'exited') {
        if (s.readyAt === null) p.settle('failed');
        continue;
      }
      if (s.state === 'pending') continue;
      if (s.state === 'restarting') {
        resumed.push(`${s.name} (restart)`);
        p.restartTimer = setTimeout(() => this.restartNow(d, p), 0);
        continue;
      }
      if (s.state !== 'starting' && s.state !== 'loading' && s.state !== 'ready' && s.state !== 'stopping') continue;
      const alive = sameBoot && s.pid !== null && s.startTime !== null && sameProcessAlive(s.pid, s.startTime);
      if (!alive) {
        // Gone while no daemon watched it; a recycled pid (different start time) is not ours either.
        const reason = sameBoot ? undefined : 'was lost: the host rebooted since it started';
        setImmediate(() => this.onExit(d, p, 1, null, null, false, reason));
        continue;
      }
      p.status = { ...s, adopted: true };
      resumed.push(`${s.name} (pid ${s.pid})`);
      this.watchAdopted(d, p, 1);
      if (s.state === 'starting' || s.state === 'loading') void this.awaitReady(d, p, 1);
    }
    this.log.info('re-adopted a deployment', { deployment: d.id, state: record.state, processes: resumed, sameBoot });
    if (record.state === 'stopping') {
      void this.teardown(d, 10).catch((err: unknown) => this.log.error('resumed teardown failed', { deployment: d.id, ...errorFields(err) }));
      return;
    }
    for (const p of procs) if (p.status.state === 'pending') void this.startWhenDepsReady(d, p);
    this.persist(d);
  }

  /** Not our child, so no exit event: poll /proc for the same pid with the same start time. */
  private watchAdopted(d: DeploymentRuntime, p: ProcRuntime, attempt: number): void {
    const pid = p.status.pid!;
    const startTime = p.status.startTime!;
    p.livenessTimer = setInterval(() => {
      if (!sameProcessAlive(pid, startTime)) this.onExit(d, p, attempt, null, null, false);
    }, this.opts.adoptedPollMs ?? 1_000);
    p.livenessTimer.unref();
  }

  // ---------------------------------------------------------------- state

  private deriveState(d: DeploymentRuntime): { state: DeploymentState; error: string | null } {
    if (d.state === 'stopped') return { state: 'stopped', error: d.error };
    if (d.tearingDown) return { state: 'stopping', error: d.error };
    const failedStart = d.procs.find((p) => p.status.state === 'failed' || ((p.status.state === 'crashed' || p.status.state === 'exited') && p.status.readyAt === null));
    if (failedStart) return { state: 'failed', error: `${failedStart.launch.name}: ${failedStart.status.detail ?? failedStart.status.state}` };
    if (d.procs.every((p) => p.status.state === 'ready')) return { state: 'ready', error: null };
    const down = d.procs.find((p) => p.status.readyAt !== null && p.status.state !== 'ready');
    if (down) return { state: 'degraded', error: `${down.launch.name}: ${down.status.detail ?? down.status.state}` };
    return { state: 'starting', error: null };
  }

  private setState(d: DeploymentRuntime, state: DeploymentState): void {
    d.state = state;
    this.persist(d);
  }

  /** A process changed: recompute the deployment state, persist, tell every client. */
  private changed(d: DeploymentRuntime, p: ProcRuntime, phase: DeployProgress['phase'], detail?: string): void {
    const next = this.deriveState(d);
    d.state = next.state;
    d.error = next.error;
    this.persist(d);
    const event: DeployProgress = { deploymentId: d.id, process: p.launch.name, phase, deploymentState: d.state, at: now(), ...(detail === undefined ? {} : { detail }) };
    this.opts.emit('deploy.progress', event);
  }

  private persist(d: DeploymentRuntime): void {
    d.updatedAt = now();
    const record: DeploymentRecord = {
      version: STATE_FILE_VERSION,
      deploymentId: d.id,
      name: d.name,
      simulated: d.simulated,
      spec: d.spec,
      logs: d.logs,
      bootId: this.bootId,
      state: d.state,
      error: d.error,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      stoppedAt: d.stoppedAt,
      processes: d.procs.map((p) => ({ launch: p.launch, status: p.status })),
    };
    try {
      writeRecordAtomic(d.dir, record);
    } catch (err) {
      this.log.error('could not write deployment state', { deployment: d.id, ...errorFields(err) });
    }
  }

  private rotateLogs(): void {
    for (const d of this.deployments.values()) {
      if (d.state === 'stopped') continue;
      for (const p of d.procs) {
        try {
          if (rotateIfLarge(p.status.logFile, d.logs.maxBytes, d.logs.keep)) this.log.debug('rotated a log', { deployment: d.id, process: p.launch.name });
        } catch (err) {
          this.log.warn('log rotation failed', { file: p.status.logFile, ...errorFields(err) });
        }
      }
    }
  }
}
