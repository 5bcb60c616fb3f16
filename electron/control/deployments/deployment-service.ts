import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { unstartedProcessStatus, type DeploymentStatus, type ProcessStatus } from '../../../common/deploy-rpc';
import { abortableSleep } from '../../../common/abortable-sleep';
import {
  formatPlan,
  formatProblems,
  locateProblems,
  parseDeploymentSpecText,
  planDeployment,
  type DeploymentPlan,
  type DeploymentSpec,
  type Problem,
} from '../../../common/deployment';
import type {
  DeploymentLogLine,
  DeploymentLogs,
  DeploymentPart,
  DeploymentRecord,
  DeploymentSample,
  DeploymentSummary,
  DeploymentView,
  DeployTaskResult,
  ForwardInfo,
  PlanOutcome,
  ProcessView,
  SpecInput,
  TeardownOutcome,
} from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';
import { LOCAL_HOST_NAME, type HostInfo, type HostStatus } from '../../../common/host';
import type { RpcClient } from '../../../common/rpc-client';
import type { Task } from '../../../common/task';
import type { AgentConnection } from '../agent/agent-attach';
import { cancelledError, type TaskContext, type TaskRunner } from '../tasks/task-runner';
import { heldResources, hostsNamedBy, launchesFor, mergeStates, newDeploymentId, resolveDeployment, splitPlan, summarize } from './deployment-parts';
import { DeploymentsStore } from './deployments-store';
import { openRelay, type Relay } from './tcp-relay';

/** What the service needs from the hosts layer (HostService implements it). */
export interface DeploymentHosts {
  list(): Promise<HostStatus[]>;
  /** Starts a host check task (connect, install, discover). */
  check(name: string): Promise<Task>;
  /** A live agent connection, made without prompts. */
  agent(name: string, signal?: AbortSignal): Promise<AgentConnection>;
  /** The live SSH session (connecting if needed) for tunnels; null for this computer. */
  session(name: string, signal?: AbortSignal): Promise<{ forwardOut(host: string, port: number): Promise<Duplex> } | null>;
}

export interface DeploymentServiceOptions {
  home: string;
  hosts: DeploymentHosts;
  tasks: TaskRunner;
  /** How often a waiting deploy asks the agents for status besides following their events. */
  pollMs?: number;
}

export interface LogFollow {
  followId: string;
  logs: DeploymentLogs['logs'];
  stop(): void;
}

/** The agent runs mocker and router from its own runtime and bundle (common/deploy-rpc.ts). */
const AGENT_COMMAND = ['@handoff-agent'];
const TEARDOWN_GRACE_S = 10;
const STATUS_TIMEOUT_MS = 20_000;
const LAST_LINES_IN_ERRORS = 12;

const sleep = abortableSleep;

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
const errorCode = (err: unknown) => (err instanceof UserFacingError ? err.code : null);

interface Prepared {
  outcome: PlanOutcome;
  spec: DeploymentSpec | null;
  plan: DeploymentPlan | null;
  /** Hosts whose agent could not be reached while planning. */
  unreachable: string[];
}

/**
 * Deployments: plan a spec against the hosts' facts and what already runs, start it on every
 * host's agent in order (workers, then the router), follow it to ready as a Task, and afterwards
 * status, logs, metric samples, teardown and a local tunnel to the endpoint. The agents own the
 * processes; deployments.json is how this controller finds them again.
 */
export class DeploymentService extends EventEmitter<{ changed: [DeploymentSummary[]]; sample: [DeploymentSample]; log: [DeploymentLogLine] }> {
  readonly store: DeploymentsStore;
  private readonly hosts: DeploymentHosts;
  private readonly tasks: TaskRunner;
  private readonly pollMs: number;
  /** Deployment id → its running deploy task. */
  private readonly applying = new Map<string, string>();
  private readonly forwards = new Map<string, { info: ForwardInfo; relay: Relay }>();
  private readonly watches = new Map<string, () => Promise<void>>();
  private readonly follows = new Map<string, () => void>();
  private nextSub = 1;
  /** Set by close(): deploy tasks cancelled from now on leave their deployments running. */
  private closing = false;

  constructor(opts: DeploymentServiceOptions) {
    super();
    this.store = new DeploymentsStore(opts.home);
    this.hosts = opts.hosts;
    this.tasks = opts.tasks;
    this.pollMs = opts.pollMs ?? 1_000;
  }

  // ------------------------------------------------------------------ plan

  /** Validates and plans a spec; never starts anything. Problems are returned, not thrown. */
  async plan(input: SpecInput, signal?: AbortSignal): Promise<PlanOutcome> {
    return (await this.prepare(input, signal)).outcome;
  }

  private async prepare(input: SpecInput, signal?: AbortSignal): Promise<Prepared> {
    const notes: string[] = [];
    const unreachable: string[] = [];
    const fail = (problems: Problem[], simulated = false): Prepared => ({
      outcome: { ok: false, problems, id: null, plan: null, text: null, simulated, notes },
      spec: null,
      plan: null,
      unreachable,
    });
    const parsed = parseDeploymentSpecText(input.specText);
    if (!parsed.ok) return fail(parsed.problems);
    const spec = parsed.spec;
    const simulated = spec.engine === 'mocker';

    const named = hostsNamedBy(spec, LOCAL_HOST_NAME);
    let statuses = await this.hosts.list();
    const saved = new Map(statuses.map((s) => [s.config.name, s]));
    const unchecked = named.filter((n) => saved.has(n) && !saved.get(n)!.info);
    if (unchecked.length) {
      // A host added but never checked: check it now so its GPUs and software are known.
      await Promise.all(
        unchecked.map(async (name) => {
          const t = await this.tasks.wait((await this.hosts.check(name)).id);
          if (t.state !== 'succeeded') notes.push(`Checking "${name}" failed: ${t.error?.message ?? t.state}`);
        }),
      );
      statuses = await this.hosts.list();
    }
    const facts: Record<string, HostInfo | undefined> = {};
    const hostAddresses: Record<string, string> = {};
    for (const s of statuses) {
      facts[s.config.name] = s.info ?? undefined;
      hostAddresses[s.config.name] = s.config.kind === 'ssh' ? s.config.target.host : '127.0.0.1';
    }

    const id = newDeploymentId(spec.name);
    const deploymentDirs: Record<string, string> = {};
    await Promise.all(
      named
        .filter((n) => facts[n] !== undefined)
        .map(async (name) => {
          try {
            const agent = await this.hosts.agent(name, signal);
            deploymentDirs[name] = `${agent.hello.home}/deployments/${id}`;
          } catch (err) {
            unreachable.push(name);
            notes.push(`Could not reach "${name}" (${errorMessage(err)}); its facts are from its last check.`);
          }
        }),
    );

    const held = heldResources(await this.store.list());
    const r = planDeployment(spec, facts, { ...held, agentCommand: AGENT_COMMAND, hostAddresses, deploymentDirs });
    if (!r.ok) return fail(locateProblems(r.problems, parsed.locate), simulated);
    const problems = locateProblems(r.plan.warnings, parsed.locate);
    return {
      outcome: { ok: true, problems, id, plan: r.plan, text: formatPlan(r.plan), simulated, notes },
      spec,
      plan: r.plan,
      unreachable,
    };
  }

  // ------------------------------------------------------------------ apply

  /** Plans and starts a deployment; the returned task follows it until every process is ready. */
  async apply(input: SpecInput): Promise<{ deployment: DeploymentSummary; task: Task; warnings: Problem[] }> {
    const prep = await this.prepare(input);
    const { outcome, spec, plan } = prep;
    if (!outcome.ok || !spec || !plan || !outcome.id) {
      const errors = outcome.problems.filter((p) => p.severity === 'error');
      throw new UserFacingError('spec-invalid', `The spec cannot be deployed:\n${formatProblems(errors, input.source)}`, { problems: outcome.problems });
    }
    const unreachable = plan.hosts.filter((h) => prep.unreachable.includes(h));
    if (unreachable.length) {
      throw new UserFacingError('host-unreachable', `Cannot deploy: ${outcome.notes.join(' ')} Check the host with "handoff hosts check ${unreachable[0]}".`);
    }
    const id = outcome.id;
    const record: DeploymentRecord = {
      id,
      name: spec.name,
      simulated: outcome.simulated,
      createdAt: new Date().toISOString(),
      stoppedAt: null,
      source: input.source ?? null,
      spec,
      plan,
      parts: splitPlan(plan, id),
      state: 'starting',
      error: null,
    };
    await this.store.put(record);
    void this.emitChanged();
    const steps = [
      { id: 'apply', label: `Start on ${plan.hosts.length === 1 ? plan.hosts[0] : `${plan.hosts.length} hosts (${plan.hosts.join(', ')})`}` },
      ...plan.processes.map((p) => ({ id: p.name, label: `${p.name} on ${p.host}` })),
    ];
    const task = this.tasks.start('deploy', `Deploy "${spec.name}"${record.simulated ? ' (simulated)' : ''}`, steps, (ctx) => this.runApply(record, ctx));
    this.applying.set(id, task.id);
    void this.tasks.wait(task.id).finally(() => {
      if (this.applying.get(id) === task.id) this.applying.delete(id);
    });
    return { deployment: summarize(record), task, warnings: outcome.problems };
  }

  private async runApply(record: DeploymentRecord, ctx: TaskContext): Promise<DeployTaskResult> {
    const t0 = performance.now();
    const { plan } = record;
    const onProcess = (p: Pick<ProcessStatus, 'name' | 'state' | 'detail' | 'pid'>) => {
      switch (p.state) {
        case 'starting':
        case 'loading':
        case 'restarting':
          ctx.step(p.name, 'running', p.state === 'loading' ? 'loading' : `${p.state}${p.pid ? ` (pid ${p.pid})` : ''}`);
          return;
        case 'ready':
          ctx.step(p.name, 'done', `ready${p.pid ? ` (pid ${p.pid})` : ''}`);
          return;
        case 'failed':
        case 'crashed':
        case 'exited':
          ctx.step(p.name, 'failed', p.detail ?? p.state);
          return;
        default:
          return;
      }
    };
    try {
      ctx.step('apply', 'running');
      for (const phase of [0, 1]) {
        const parts = record.parts.filter((p) => p.phase === phase);
        if (!parts.length) continue;
        if (phase === 1) for (const part of parts) for (const n of part.processes) ctx.step(n, 'running', 'starting after the workers on other hosts');
        await Promise.all(
          parts.map(async (part) => {
            const agent = await this.hosts.agent(part.host, ctx.signal);
            await agent.rpc.call(
              'deploy.apply',
              { deploymentId: part.agentDeploymentId, name: record.name, simulated: record.simulated, spec: record.spec, processes: launchesFor(plan, part) },
              { signal: ctx.signal, timeoutMs: 60_000 },
            );
          }),
        );
        if (phase === 0) ctx.step('apply', 'done', `${record.parts.length} agent deployment${record.parts.length > 1 ? 's' : ''}`);
        await Promise.all(parts.map((part) => this.waitReady(record, part, onProcess, ctx.signal)));
      }
      await this.setState(record.id, 'ready', null);
      return { id: record.id, name: record.name, simulated: record.simulated, endpoint: plan.endpoint, readyMs: performance.now() - t0 };
    } catch (err) {
      const cancelled = ctx.signal.aborted;
      if (cancelled && this.closing) throw cancelledError();
      // A half-started deployment holds GPUs and ports: undo it. Logs stay on the hosts.
      const undo = await this.teardownParts(record).catch((e: unknown) => e);
      const undone = !(undo instanceof Error);
      const why = cancelled ? 'cancelled' : errorMessage(err);
      await this.store.update(record.id, (r) => ({ ...r, state: undone ? 'stopped' : 'unknown', stoppedAt: undone ? new Date().toISOString() : null, error: why }));
      void this.emitChanged();
      if (cancelled) throw cancelledError();
      const after = undone
        ? `Everything it started was stopped; see its logs with "handoff logs ${record.id}".`
        : `Stopping what it started failed too (${errorMessage(undo)}); run "handoff down ${record.id}".`;
      throw new UserFacingError(errorCode(err) ?? 'deploy-failed', `${why}\n${after}`);
    }
  }

  /**
   * Follows one part to ready: agent events drive the task steps, a status poll covers missed
   * events and reconnects after a dropped connection (the agent keeps running what it started).
   */
  private async waitReady(record: DeploymentRecord, part: DeploymentPart, onProcess: (p: ProcessStatus) => void, signal: AbortSignal): Promise<void> {
    const restartOff = record.plan.processes.every((p) => p.restart.policy === 'off');
    let rpc: RpcClient | null = null;
    let unsubscribe = () => {};
    let wake: () => void = () => {};
    try {
      for (;;) {
        if (signal.aborted) throw cancelledError();
        if (!rpc || rpc.closed) {
          unsubscribe();
          try {
            rpc = (await this.hosts.agent(part.host, signal)).rpc;
          } catch (err) {
            if (signal.aborted) throw cancelledError();
            if (errorCode(err) !== 'agent-disconnected' && errorCode(err) !== 'host-unreachable') throw err;
            rpc = null;
            await sleep(this.pollMs, signal);
            continue;
          }
          unsubscribe = rpc.onAgentNotification('deploy.progress', (ev) => {
            if (ev.deploymentId === part.agentDeploymentId) wake();
          });
        }
        const woke = new Promise<void>((resolve) => (wake = resolve));
        let status: DeploymentStatus | undefined;
        try {
          status = (await rpc.call('deploy.status', { deploymentId: part.agentDeploymentId }, { signal, timeoutMs: STATUS_TIMEOUT_MS })).deployments[0];
        } catch (err) {
          if (signal.aborted) throw cancelledError();
          if (errorCode(err) === 'agent-disconnected' || errorCode(err) === 'agent-timeout') continue;
          throw err;
        }
        if (!status) throw new UserFacingError('deploy-failed', `The agent on ${part.host} lost deployment ${part.agentDeploymentId}.`);
        for (const p of status.processes) onProcess(p);
        const dead = status.processes.find((p) => p.state === 'failed' || ((p.state === 'crashed' || p.state === 'exited') && restartOff) || p.state === 'stopped');
        if (dead) throw new UserFacingError('deploy-failed', describeFailure(dead, part.host));
        if (status.state === 'stopped' || status.state === 'stopping') throw new UserFacingError('deploy-failed', `The deployment was stopped on ${part.host} while it started.`);
        if (status.processes.every((p) => p.state === 'ready')) return;
        await Promise.race([woke, sleep(this.pollMs, signal)]);
      }
    } finally {
      unsubscribe();
    }
  }

  // ------------------------------------------------------------------ list, status

  async list(opts: { refresh?: boolean } = {}): Promise<DeploymentSummary[]> {
    const records = await this.store.list();
    if (opts.refresh) {
      await Promise.all(records.filter((r) => r.stoppedAt === null && !this.applying.has(r.id)).map((r) => this.view(r).catch(() => undefined)));
      return (await this.store.list()).map(summarize);
    }
    return records.map(summarize);
  }

  async status(ref: string): Promise<DeploymentView> {
    return this.view(await this.resolve(ref));
  }

  async resolve(ref: string): Promise<DeploymentRecord> {
    return resolveDeployment(await this.store.list(), ref);
  }

  private async partStatus(part: DeploymentPart): Promise<{ status?: DeploymentStatus; error?: string; missing?: boolean }> {
    const signal = AbortSignal.timeout(STATUS_TIMEOUT_MS);
    try {
      const agent = await this.hosts.agent(part.host, signal);
      const r = await agent.rpc.call('deploy.status', { deploymentId: part.agentDeploymentId }, { signal, timeoutMs: STATUS_TIMEOUT_MS });
      const status = r.deployments[0];
      return status ? { status } : { missing: true };
    } catch (err) {
      if (errorCode(err) === 'unknown-deployment') return { missing: true };
      return { error: errorMessage(err) };
    }
  }

  /** Asks every host, merges, and remembers the state it learned. */
  private async view(record: DeploymentRecord): Promise<DeploymentView> {
    const starting = this.applying.has(record.id);
    const results = await Promise.all(record.parts.map(async (part) => ({ part, ...(await this.partStatus(part)) })));
    const unreachable = results.filter((r) => r.error !== undefined).map((r) => ({ host: r.part.host, message: r.error! }));
    const processes: ProcessView[] = record.plan.processes.map((planned) => {
      const r = results.find((x) => x.part.processes.includes(planned.name));
      const live = r?.status?.processes.find((p) => p.name === planned.name);
      const extra = { host: planned.host, group: planned.group, gpuIds: planned.gpuIds, url: planned.url };
      if (live) return { ...live, ...extra };
      const detail = r?.error
        ? `unknown: ${planned.host} cannot be reached (${r.error})`
        : starting
          ? 'waiting for the workers on other hosts'
          : `the agent on ${planned.host} does not know this deployment (its agent home was reset?)`;
      return {
        ...unstartedProcessStatus({
          name: planned.name,
          role: planned.role,
          state: 'pending',
          exitKnown: false,
          detail,
          port: planned.port,
          readinessUrl: planned.readiness.url,
          metricsUrl: planned.metricsUrl,
          logFile: '',
        }),
        // 'unknown' exists only in the controller's view: no agent can say what the process is doing.
        state: r?.error || !starting ? ('unknown' as const) : ('pending' as const),
        ...extra,
      };
    });
    const partStates = results.map((r) => (r.status ? r.status.state : r.missing && starting ? 'starting' : r.missing ? 'stopped' : null));
    let state = record.stoppedAt !== null ? 'stopped' : mergeStates(partStates);
    const errors = results.map((r) => r.status?.error).filter((e): e is string => !!e);
    const error = state === 'ready' ? null : (errors[0] ?? (unreachable[0] ? `${unreachable[0].host}: ${unreachable[0].message}` : record.error));
    let updated = record;
    if (record.stoppedAt === null && (state !== record.state || error !== record.error)) {
      const stoppedAt = state === 'stopped' ? new Date().toISOString() : null;
      updated = (await this.store.update(record.id, (r) => ({ ...r, state, error, stoppedAt }))) ?? record;
      void this.emitChanged();
    }
    state = updated.stoppedAt !== null ? 'stopped' : state;
    return { ...summarize(updated), state, error, processes, unreachable, plan: record.plan };
  }

  // ------------------------------------------------------------------ teardown

  async teardown(ref: string): Promise<TeardownOutcome> {
    const record = await this.resolve(ref);
    const taskId = this.applying.get(record.id);
    if (taskId) {
      // The deploy task undoes what it started when cancelled; wait for it, then make sure.
      this.tasks.cancel(taskId);
      await this.tasks.wait(taskId);
    }
    const hosts = await this.teardownParts(record);
    await this.store.update(record.id, (r) => ({ ...r, state: 'stopped', stoppedAt: r.stoppedAt ?? new Date().toISOString() }));
    await this.closeForwards(record.id);
    void this.emitChanged();
    return { id: record.id, state: 'stopped', hosts };
  }

  /** Router part first, then the workers; every host is tried, failures are reported together. */
  private async teardownParts(record: DeploymentRecord): Promise<TeardownOutcome['hosts']> {
    const out: TeardownOutcome['hosts'] = [];
    const failures: string[] = [];
    for (const phase of [1, 0]) {
      await Promise.all(
        record.parts
          .filter((p) => p.phase === phase)
          .map(async (part) => {
            try {
              const agent = await this.hosts.agent(part.host, AbortSignal.timeout(60_000));
              const r = await agent.rpc.call('deploy.teardown', { deploymentId: part.agentDeploymentId, graceS: TEARDOWN_GRACE_S }, { timeoutMs: (TEARDOWN_GRACE_S + 60) * 1000 });
              out.push({ host: part.host, killed: r.killed, removedPaths: r.removedPaths });
            } catch (err) {
              if (errorCode(err) === 'unknown-deployment') return; // never started there
              failures.push(`${part.host}: ${errorMessage(err)}`);
            }
          }),
      );
    }
    if (failures.length) {
      throw new UserFacingError('teardown-incomplete', `Could not stop ${record.id} everywhere — ${failures.join('; ')}. Run "handoff down ${record.id}" again once the host is reachable.`);
    }
    return out;
  }

  // ------------------------------------------------------------------ logs

  private partsFor(record: DeploymentRecord, process?: string): Array<{ part: DeploymentPart; processes: string[] | null }> {
    if (process === undefined) return record.parts.map((part) => ({ part, processes: null }));
    const names = record.plan.processes.filter((p) => p.name === process).map((p) => p.name);
    const chosen = names.length ? names : record.plan.processes.filter((p) => p.group === process).map((p) => p.name);
    if (!chosen.length) {
      throw new UserFacingError(
        'unknown-process',
        `Deployment ${record.id} has no process or worker group "${process}"; it has ${record.plan.processes.map((p) => p.name).join(', ')}.`,
      );
    }
    return record.parts.map((part) => ({ part, processes: part.processes.filter((n) => chosen.includes(n)) })).filter((x) => x.processes.length > 0);
  }

  async logs(ref: string, opts: { process?: string; lines?: number } = {}): Promise<DeploymentLogs> {
    const record = await this.resolve(ref);
    const logs: DeploymentLogs['logs'] = [];
    for (const { part, processes } of this.partsFor(record, opts.process)) {
      const agent = await this.hosts.agent(part.host);
      for (const proc of processes ?? [undefined]) {
        const r = await agent.rpc.call('logs.tail', { deploymentId: part.agentDeploymentId, lines: opts.lines ?? 100, ...(proc ? { process: proc } : {}) });
        for (const l of r.logs) logs.push({ ...l, host: part.host });
      }
    }
    return { logs: orderLike(record, logs), followId: null };
  }

  /**
   * The last lines, then every new line until stop(). A dropped connection is re-made and the
   * follow resumed from the end of the file; `onGap` says so, since lines written meanwhile are skipped.
   */
  async followLogs(
    ref: string,
    opts: { process?: string; lines?: number },
    onLine: (l: DeploymentLogLine) => void,
    onGap?: (host: string, why: string) => void,
  ): Promise<LogFollow> {
    const record = await this.resolve(ref);
    const followId = `follow-${this.nextSub++}`;
    const stops = new Set<() => void>();
    let stopped = false;
    const emit = (host: string, ev: { process: string; line: string; at: string }) => onLine({ followId, id: record.id, process: ev.process, host, line: ev.line, at: ev.at });

    const followOne = async (part: DeploymentPart, proc: string | undefined, lines: number): Promise<DeploymentLogs['logs']> => {
      const agent = await this.hosts.agent(part.host);
      let mine: string | null = null;
      const early: Array<{ followId: string; process: string; line: string; at: string }> = [];
      // Lines may arrive before the reply names the follow id: keep them until it does.
      const off = agent.rpc.onAgentNotification('logs.line', (ev) => {
        if (mine === null) early.push(ev);
        else if (ev.followId === mine) emit(part.host, ev);
      });
      let r;
      try {
        r = await agent.rpc.call('logs.tail', { deploymentId: part.agentDeploymentId, lines, follow: true, ...(proc ? { process: proc } : {}) });
      } catch (err) {
        off();
        throw err;
      }
      mine = r.followId;
      for (const ev of early.splice(0)) if (ev.followId === mine) emit(part.host, ev);
      const agentFollow = r.followId;
      const stop = () => {
        stops.delete(stop);
        off();
        offClose();
        if (agentFollow && !agent.rpc.closed) void agent.rpc.call('logs.unfollow', { followId: agentFollow }).catch(() => undefined);
      };
      const offClose = agent.rpc.onClose((reason) => {
        stop();
        if (stopped) return;
        onGap?.(part.host, reason.message);
        void (async () => {
          while (!stopped) {
            await sleep(1000);
            if (stopped) return;
            try {
              await followOne(part, proc, 0);
              return;
            } catch {
              // still unreachable: try again
            }
          }
        })();
      });
      stops.add(stop);
      return r.logs.map((l) => ({ ...l, host: part.host }));
    };

    const logs: DeploymentLogs['logs'] = [];
    try {
      for (const { part, processes } of this.partsFor(record, opts.process)) {
        for (const proc of processes ?? [undefined]) logs.push(...(await followOne(part, proc, opts.lines ?? 100)));
      }
    } catch (err) {
      stopped = true;
      for (const s of [...stops]) s();
      throw err;
    }
    const stop = () => {
      stopped = true;
      for (const s of [...stops]) s();
      this.follows.delete(followId);
    };
    this.follows.set(followId, stop);
    return { followId, logs: orderLike(record, logs), stop };
  }

  /** API form of followLogs: lines go out as `log` events carrying the returned followId. */
  async logsFollowed(ref: string, opts: { process?: string; lines?: number }): Promise<DeploymentLogs> {
    const f = await this.followLogs(ref, opts, (l) => this.emit('log', l));
    return { logs: f.logs, followId: f.followId };
  }

  unfollow(followId: string): boolean {
    const stop = this.follows.get(followId);
    if (!stop) return false;
    stop();
    return true;
  }

  // ------------------------------------------------------------------ samples

  /** The newest metric sample of every host the deployment runs on. */
  async sample(ref: string): Promise<DeploymentSample[]> {
    const record = await this.resolve(ref);
    return Promise.all(
      record.parts.map(async (part) => {
        const agent = await this.hosts.agent(part.host);
        const r = await agent.rpc.call('deploy.metrics', { deploymentId: part.agentDeploymentId, last: 1 });
        const s = r.samples.at(-1);
        return { id: record.id, host: part.host, at: s?.at ?? new Date().toISOString(), perProcess: s?.perProcess ?? {}, ...(s?.errors ? { errors: s.errors } : {}) };
      }),
    );
  }

  /** Live samples as `sample` events until unwatch (or the host's connection drops). */
  async watch(ref: string): Promise<{ watchId: string; intervalMs: number }> {
    const record = await this.resolve(ref);
    const watchId = `watch-${this.nextSub++}`;
    const undo: Array<() => Promise<void>> = [];
    let intervalMs = 1000;
    try {
      for (const part of record.parts) {
        const agent = await this.hosts.agent(part.host);
        const off = agent.rpc.onAgentNotification('deploy.sample', (s) => {
          if (s.deploymentId !== part.agentDeploymentId) return;
          this.emit('sample', { id: record.id, host: part.host, at: s.at, perProcess: s.perProcess, ...(s.errors ? { errors: s.errors } : {}) });
        });
        const r = await agent.rpc.call('deploy.watch', { deploymentId: part.agentDeploymentId });
        intervalMs = r.intervalMs;
        undo.push(async () => {
          off();
          if (!agent.rpc.closed) await agent.rpc.call('deploy.unwatch', { watchId: r.watchId }).catch(() => undefined);
        });
      }
    } catch (err) {
      await Promise.all(undo.map((u) => u()));
      throw err;
    }
    this.watches.set(watchId, async () => {
      this.watches.delete(watchId);
      await Promise.all(undo.map((u) => u()));
    });
    return { watchId, intervalMs };
  }

  async unwatch(watchId: string): Promise<boolean> {
    const stop = this.watches.get(watchId);
    if (!stop) return false;
    await stop();
    return true;
  }

  // ------------------------------------------------------------------ forward

  /**
   * A local port that reaches the router's endpoint: through the host's SSH connection (a new
   * channel per client connection, so it keeps working after the session reconnects), or
   * straight to it on this computer.
   */
  async forward(ref: string, opts: { localPort?: number } = {}): Promise<ForwardInfo> {
    const record = await this.resolve(ref);
    if (record.stoppedAt !== null) throw new UserFacingError('deployment-stopped', `Deployment ${record.id} is stopped; deploy it again to reach it.`);
    const existing = [...this.forwards.values()].find((f) => f.info.id === record.id && (opts.localPort === undefined || f.info.localPort === opts.localPort));
    if (existing) return existing.info;
    const host = record.plan.endpoint.host;
    const remote = new URL(record.plan.endpoint.url);
    const remoteHost = remote.hostname.replace(/^\[|\]$/g, '');
    const remotePort = Number(remote.port);
    // Fail now, not at the first request, when the host is unreachable.
    await this.hosts.session(host);
    const relay = await openRelay({
      localPort: opts.localPort ?? 0,
      connect: async () => {
        const session = await this.hosts.session(host, AbortSignal.timeout(30_000));
        return session ? session.forwardOut(remoteHost, remotePort) : null;
      },
      direct: { host: remoteHost, port: remotePort },
    });
    const info: ForwardInfo = {
      id: record.id,
      host,
      localPort: relay.port,
      url: `http://127.0.0.1:${relay.port}/v1`,
      remote: `${remote.host}`,
    };
    this.forwards.set(`${record.id}:${relay.port}`, { info, relay });
    return info;
  }

  async unforward(ref: string, localPort?: number): Promise<number> {
    const record = await this.resolve(ref);
    return this.closeForwards(record.id, localPort);
  }

  private async closeForwards(id: string, localPort?: number): Promise<number> {
    const mine = [...this.forwards.entries()].filter(([, f]) => f.info.id === id && (localPort === undefined || f.info.localPort === localPort));
    for (const [key] of mine) this.forwards.delete(key);
    await Promise.all(mine.map(([, f]) => f.relay.close()));
    return mine.length;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Stops tunnels, watches and follows (never the deployments: they outlive the controller). */
  async close(): Promise<void> {
    this.closing = true;
    for (const stop of [...this.follows.values()]) stop();
    await Promise.all([...this.watches.values()].map((s) => s().catch(() => undefined)));
    await Promise.all([...this.forwards.values()].map((f) => f.relay.close()));
    this.forwards.clear();
  }

  private async setState(id: string, state: DeploymentRecord['state'], error: string | null): Promise<void> {
    await this.store.update(id, (r) => ({ ...r, state, error }));
    void this.emitChanged();
  }

  private async emitChanged(): Promise<void> {
    try {
      this.emit('changed', (await this.store.list()).map(summarize));
    } catch {
      // A broken deployments.json is reported by the next explicit call; events must not throw.
    }
  }
}

function describeFailure(p: ProcessStatus, host: string): string {
  const how = p.detail ?? (p.exitCode !== null ? `exited with code ${p.exitCode}` : p.state);
  const lines = p.lastLogLines.slice(-LAST_LINES_IN_ERRORS);
  return `${p.name} on ${host} ${p.state === 'failed' ? 'failed' : p.state}: ${how}${lines.length ? `\nLast log lines of ${p.name}:\n${lines.map((l) => `  ${l}`).join('\n')}` : ''}`;
}

/** Logs in the plan's process order (workers, then the router), whatever order the hosts answered in. */
function orderLike(record: DeploymentRecord, logs: DeploymentLogs['logs']): DeploymentLogs['logs'] {
  const order = new Map(record.plan.processes.map((p, i) => [p.name, i]));
  return [...logs].sort((a, b) => (order.get(a.process) ?? 0) - (order.get(b.process) ?? 0));
}

