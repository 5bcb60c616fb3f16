import path from 'node:path';
import { EventEmitter } from 'node:events';
import { toErrorPayload, UserFacingError } from '../../../common/errors';
import type { HostCheckResult, HostConfig, HostState, HostStatus } from '../../../common/host';
import type { AddHostParams } from '../../../common/api-contract';
import type { Task } from '../../../common/task';
import { HANDOFF_VERSION } from '../../../common/version';
import { HostsStore } from './hosts-store';
import { HostStatusStore } from './host-status-store';
import type { TaskContext, TaskRunner } from '../tasks/task-runner';
import { connectAgent, localAttach, type AgentConnection } from '../agent/agent-attach';
import { ensureAgentInstalled, removeOtherVersions, type AgentArtifacts } from '../agent/agent-install';
import { openSshHost, sshAttach, type SshHostOptions } from './ssh-host';
import type { SshSession } from '../ssh/ssh-session';

export interface HostServiceOptions {
  home: string;
  artifacts: AgentArtifacts;
  /** Agent home for "this computer" (default: $HANDOFF_AGENT_HOME or <home>/local-agent). */
  localAgentHome?: string;
  ssh?: Pick<SshHostOptions, 'userKnownHostsFile' | 'sshConfigFile'>;
}

interface LiveHost {
  agent: AgentConnection;
  session: SshSession | null;
}

const LOCAL_STEPS = [
  { id: 'agent', label: 'Start the agent' },
  { id: 'discovery', label: 'Discover GPUs and software' },
];
const SSH_STEPS = [
  { id: 'tcp', label: 'Connect (TCP)' },
  { id: 'host-key', label: 'Verify the host key' },
  { id: 'auth', label: 'Authenticate' },
  { id: 'agent', label: 'Install or reuse the agent' },
  { id: 'discovery', label: 'Discover GPUs and software' },
];

/** Maps a failure to the state shown in lists ("needs trust" is not the same problem as "unreachable"). */
function stateForError(code: string): HostState {
  switch (code) {
    case 'host-unreachable':
    case 'jump-failed':
    case 'agent-disconnected':
      return 'unreachable';
    case 'host-key-unknown':
      return 'needs-trust';
    case 'auth-failed':
    case 'passphrase-required':
      return 'auth-failed';
    case 'agent-outdated':
      return 'agent-outdated';
    default:
      return 'error';
  }
}

/** Hosts: saved configs, last status, live agent connections, and the check task. */
export class HostService extends EventEmitter<{ changed: [HostStatus[]] }> {
  readonly store: HostsStore;
  private readonly statuses: HostStatusStore;
  private readonly live = new Map<string, LiveHost>();
  private readonly checking = new Set<string>();
  private readonly connecting = new Map<string, Promise<AgentConnection>>();
  private readonly localAgentHome: string;

  constructor(private readonly opts: HostServiceOptions, private readonly tasks: TaskRunner) {
    super();
    this.store = new HostsStore(opts.home);
    this.statuses = new HostStatusStore(opts.home);
    this.localAgentHome = opts.localAgentHome ?? process.env.HANDOFF_AGENT_HOME ?? path.join(opts.home, 'local-agent');
  }

  async list(): Promise<HostStatus[]> {
    const [configs, statuses] = await Promise.all([this.store.list(), this.statuses.all()]);
    return configs.map((config) => {
      const s = statuses[config.name];
      const state: HostState = this.checking.has(config.name) ? 'checking' : (s?.state ?? 'unknown');
      return { config, state, ...(s?.message ? { message: s.message } : {}), info: s?.info ?? null, checkedAt: s?.checkedAt ?? null };
    });
  }

  async add(params: AddHostParams): Promise<{ host: HostStatus; task: Task }> {
    const addedAt = new Date().toISOString();
    const config: HostConfig =
      params.kind === 'local'
        ? { kind: 'local', name: params.name, addedAt }
        : { kind: 'ssh', name: params.name, target: params.target, addedAt, ...(params.identityFile ? { identityFile: params.identityFile } : {}), ...(params.jump ? { jump: params.jump } : {}) };
    await this.store.add(config);
    const task = await this.check(config.name);
    const host = (await this.list()).find((h) => h.config.name === config.name)!;
    await this.emitChanged();
    return { host, task };
  }

  async remove(name: string): Promise<void> {
    await this.store.remove(name);
    this.disconnect(name);
    await this.statuses.set(name, null);
    await this.emitChanged();
  }

  /** Starts the check task: connect, trust, install or reuse the agent, discover. */
  async check(name: string): Promise<Task> {
    const config = await this.store.get(name);
    if (this.checking.has(name)) {
      const running = this.tasks.list().find((t) => t.kind === 'host-check' && t.title.endsWith(`"${name}"`) && (t.state === 'running' || t.state === 'needs-input'));
      if (running) return running;
    }
    this.checking.add(name);
    void this.emitChanged();
    const task = this.tasks.start('host-check', `Check host "${name}"`, config.kind === 'local' ? LOCAL_STEPS : SSH_STEPS, async (ctx) => {
      try {
        return await this.runCheck(config, ctx);
      } catch (err) {
        // Recorded before the task settles, so whoever waits on the task sees the new state in lists.
        const payload = toErrorPayload(err);
        const prev = (await this.statuses.all())[name];
        const cancelled = ctx.signal.aborted;
        await this.statuses.set(name, {
          state: cancelled ? (prev?.state ?? 'unknown') : stateForError(payload.code),
          message: cancelled ? 'Check cancelled.' : payload.message,
          info: prev?.info ?? null,
          checkedAt: new Date().toISOString(),
        });
        throw err;
      } finally {
        this.checking.delete(name);
        void this.emitChanged();
      }
    });
    return task;
  }

  /** A live agent connection for other services (deployments, benchmarks); connects without prompts. */
  async agent(name: string, signal?: AbortSignal): Promise<AgentConnection> {
    const live = this.live.get(name);
    if (live && !live.agent.rpc.closed) return live.agent;
    // Concurrent callers share one connect: two would each open a session and leak the first.
    let pending = this.connecting.get(name);
    if (!pending) {
      pending = this.store
        .get(name)
        .then((config) => this.connect(config, null))
        .then((conn) => conn.agent)
        .finally(() => this.connecting.delete(name));
      this.connecting.set(name, pending);
    }
    if (!signal) return pending;
    if (signal.aborted) throw new UserFacingError('cancelled', 'Cancelled.');
    return new Promise<AgentConnection>((resolve, reject) => {
      const onAbort = () => reject(new UserFacingError('cancelled', 'Cancelled.'));
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** The live SSH session of a host, connecting without prompts if needed (tunnels); null for this computer. */
  async session(name: string, signal?: AbortSignal): Promise<SshSession | null> {
    await this.agent(name, signal);
    return this.live.get(name)?.session ?? null;
  }

  disconnect(name: string): void {
    const live = this.live.get(name);
    if (!live) return;
    this.live.delete(name);
    live.agent.close();
    live.session?.close();
  }

  async close(): Promise<void> {
    for (const name of [...this.live.keys()]) this.disconnect(name);
  }

  private async runCheck(config: HostConfig, ctx: TaskContext): Promise<HostCheckResult> {
    const t0 = performance.now();
    this.disconnect(config.name);
    const { agent, install } = await this.connect(config, ctx, ctx.signal);
    ctx.step('discovery', 'running');
    const info = await agent.rpc.call('host.info', { refresh: true }, { timeoutMs: 60_000, signal: ctx.signal });
    ctx.step('discovery', 'done', info.gpus.length ? `${info.gpus.length} × ${info.gpus[0]!.name}` : 'no GPU found');
    const entry = { state: 'connected' as const, info, checkedAt: new Date().toISOString() };
    await this.statuses.set(config.name, entry);
    const status: HostStatus = { config, ...entry };
    return {
      status,
      agent: {
        version: agent.hello.agentVersion,
        uploadedBundle: install?.uploadedBundle ?? false,
        uploadedRuntime: install?.uploadedRuntime ?? false,
        replacedVersion: agent.replacedVersion,
        daemonPid: agent.hello.pid,
      },
      durationMs: performance.now() - t0,
    };
  }

  private async connect(config: HostConfig, ctx: TaskContext | null, signal?: AbortSignal) {
    const step = ctx?.step ?? (() => undefined);
    if (config.kind === 'local') {
      step('agent', 'running', 'starting the local agent');
      const agent = await connectAgent(localAttach(this.opts.artifacts.bundlePath, this.localAgentHome), HANDOFF_VERSION, 'the local agent', signal);
      step('agent', 'done', `agent ${agent.hello.agentVersion}, pid ${agent.hello.pid}`);
      this.watch(config.name, { agent, session: null });
      return { agent, install: null };
    }
    const session = await openSshHost(config, {
      knownHostsFile: path.join(this.opts.home, 'known_hosts'),
      ...this.opts.ssh,
      onStep: (id, state, detail) => step(id, state, detail),
      onUnknownHostKey: async (k) => {
        if (!ctx) return false;
        const a = await ctx.ask({ kind: 'trust-host-key', host: k.host, port: k.port, keyType: k.keyType, fingerprint: k.fingerprint });
        return a.trust;
      },
      onPassphrase: async (keyFile) => {
        if (!ctx) return null;
        const a = await ctx.ask({ kind: 'passphrase', keyFile });
        return a.passphrase;
      },
      ...(signal ? { signal } : {}),
    });
    try {
      step('agent', 'running', 'checking the installed agent');
      const install = await ensureAgentInstalled(session, this.opts.artifacts, (detail, progress) => step('agent', 'running', detail, progress), signal);
      const agent = await connectAgent(sshAttach(session, install.attachArgv), HANDOFF_VERSION, `the agent on ${config.name}`, signal);
      if (install.uploadedBundle || agent.replacedVersion) await removeOtherVersions(session, install.facts.home, HANDOFF_VERSION).catch(() => undefined);
      step(
        'agent',
        'done',
        `${install.uploadedBundle ? 'installed' : 'reused'} agent ${agent.hello.agentVersion}${install.uploadedRuntime ? ' with a Node runtime' : ''}${agent.replacedVersion ? ` (replaced ${agent.replacedVersion})` : ''}`,
      );
      this.watch(config.name, { agent, session });
      return { agent, install };
    } catch (err) {
      session.close();
      throw err;
    }
  }

  private watch(name: string, live: LiveHost): void {
    this.live.set(name, live);
    live.agent.rpc.onClose(() => {
      if (this.live.get(name) === live) {
        this.live.delete(name);
        live.session?.close();
      }
    });
  }

  private async emitChanged(): Promise<void> {
    try {
      this.emit('changed', await this.list());
    } catch {
      // A broken hosts.json is reported by the next explicit call; events must not throw.
    }
  }
}

