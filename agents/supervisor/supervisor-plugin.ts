import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import type { DaemonApi, DaemonPlugin } from '../daemon/agent-daemon';
import type { RpcContext } from '../rpc/method-registry';
import { DeploymentSampler } from './deployment-sampler';
import { lastLogLines, LogFollower } from './log-files';
import { Supervisor, type DeploymentRuntime } from './supervisor';

/**
 * deploy.* and logs.* on the agent daemon. Progress goes to every client (deploy.progress);
 * metric samples and followed log lines go only to the client that asked, until it unwatches,
 * unfollows or disconnects.
 */

export interface SupervisorPluginOptions {
  /** Replaces `@handoff-agent` in argv[0]; default: this runtime and the running bundle. */
  agentCommand?: string[];
  sampleIntervalMs?: number;
  adoptedPollMs?: number;
  rotateCheckMs?: number;
  logPollMs?: number;
}

/** This runtime and the running agent bundle (execArgv carries tsx's loader in development). */
export function runningAgentCommand(): string[] {
  const script = process.argv[1];
  return script ? [process.execPath, ...process.execArgv, path.resolve(script)] : [process.execPath];
}

export function createSupervisorPlugin(options: SupervisorPluginOptions = {}): DaemonPlugin {
  return (api) => registerSupervisor(api, options);
}

export const supervisorPlugin: DaemonPlugin = createSupervisorPlugin();

interface Subscription {
  clientId: number;
  stop(): void;
}

interface Watch extends Subscription {
  deploymentId: string;
  send(sample: unknown): void;
}

function registerSupervisor(api: DaemonApi, options: SupervisorPluginOptions): void {
  const log = api.log.child({ component: 'supervisor' });
  const sup = new Supervisor({
    deploymentsDir: api.layout.deploymentsDir,
    log,
    emit: (m, p) => api.broadcast(m, p),
    agentCommand: options.agentCommand ?? runningAgentCommand(),
    ...(options.adoptedPollMs === undefined ? {} : { adoptedPollMs: options.adoptedPollMs }),
    ...(options.rotateCheckMs === undefined ? {} : { rotateCheckMs: options.rotateCheckMs }),
  });
  // Plugins load before the daemon has won the socket: a daemon that loses the start race (and
  // exits) must not re-adopt, restart or time out anyone's processes, so nothing starts until this
  // process owns the pid file, and every handler waits for that.
  let started = false;
  let closed = false;
  const ready = whenOwnerOf(api.layout.pidFile).then(() => {
    if (closed) return;
    sup.start();
    started = true;
  });

  const intervalMs = options.sampleIntervalMs ?? 1_000;
  const samplers = new Map<string, DeploymentSampler>();
  const watches = new Map<string, Watch>();
  const sampleTimers = new Map<string, NodeJS.Timeout>();
  const follows = new Map<string, Subscription>();
  let nextSub = 1;

  const samplerFor = (d: DeploymentRuntime): DeploymentSampler => {
    let s = samplers.get(d.id);
    if (!s) {
      s = new DeploymentSampler(d.id, () =>
        d.procs.filter((p) => p.status.state === 'ready' && p.status.pid !== null).map((p) => ({ name: p.launch.name, instance: `${p.status.pid}:${p.status.startTime}`, url: p.status.metricsUrl })),
      );
      samplers.set(d.id, s);
    }
    return s;
  };

  /** One timer per watched deployment, only while someone watches it. */
  const syncSampleTimer = (deploymentId: string) => {
    const watched = [...watches.values()].filter((w) => w.deploymentId === deploymentId);
    const timer = sampleTimers.get(deploymentId);
    if (watched.length === 0) {
      if (timer) clearInterval(timer);
      sampleTimers.delete(deploymentId);
      return;
    }
    if (timer) return;
    const t = setInterval(() => {
      const d = sup.list().find((x) => x.id === deploymentId);
      if (!d) return;
      void samplerFor(d)
        .sampleNow()
        .then((sample) => {
          for (const w of watches.values()) if (w.deploymentId === deploymentId) w.send(sample);
        })
        .catch((err: unknown) => log.warn('metric sampling failed', { deployment: deploymentId, error: String(err) }));
    }, intervalMs);
    t.unref();
    sampleTimers.set(deploymentId, t);
  };

  const subscriptionId = (prefix: string) => `${prefix}-${process.pid}-${nextSub++}`;

  api.registry.handle('deploy.apply', async (params, ctx) => {
    await ready;
    ctx.log.info('deploy.apply', { deployment: params.deploymentId, processes: params.processes.length, wait: params.wait });
    const d = await sup.apply(params);
    samplers.delete(d.id);
    return { deploymentId: d.id, state: d.state, deployment: sup.status(d) };
  });

  api.registry.handle('deploy.status', async (params) => {
    await ready;
    const list = params?.deploymentId ? [sup.get(params.deploymentId)] : sup.list();
    return { deployments: list.map((d) => sup.status(d)) };
  });

  api.registry.handle('deploy.teardown', async (params, ctx) => {
    await ready;
    ctx.log.info('deploy.teardown', { deployment: params.deploymentId, graceS: params.graceS });
    return sup.teardown(sup.get(params.deploymentId), params.graceS);
  });

  api.registry.handle('deploy.remove', async (params) => {
    await ready;
    sup.remove(sup.get(params.deploymentId));
    samplers.delete(params.deploymentId);
    return { removed: true as const };
  });

  api.registry.handle('deploy.metrics', async (params) => {
    await ready;
    const d = sup.get(params.deploymentId);
    const sampler = samplerFor(d);
    const newest = sampler.newestAtMs;
    if (newest === null || Date.now() - newest > 2 * intervalMs) await sampler.sampleNow();
    return { samples: sampler.latest(params.last) };
  });

  api.registry.handle('deploy.watch', async (params, ctx) => {
    await ready;
    sup.get(params.deploymentId);
    const watchId = subscriptionId('watch');
    const stop = () => {
      watches.delete(watchId);
      syncSampleTimer(params.deploymentId);
    };
    watches.set(watchId, { clientId: ctx.clientId, deploymentId: params.deploymentId, stop, send: (sample) => ctx.notify('deploy.sample', sample) });
    ctx.signal.addEventListener('abort', stop, { once: true });
    syncSampleTimer(params.deploymentId);
    return { watchId, intervalMs };
  });

  api.registry.handle('deploy.unwatch', (params, ctx) => ownedStop(watches, params.watchId, ctx));

  api.registry.handle('logs.tail', async (params, ctx) => {
    await ready;
    const d = sup.get(params.deploymentId);
    let procs = d.procs;
    if (params.process !== undefined) {
      const p = d.proc(params.process);
      if (!p) {
        throw new UserFacingError('unknown-process', `Deployment "${d.id}" has no process "${params.process}"; it has ${d.procs.map((x) => x.launch.name).join(', ')}.`);
      }
      procs = [p];
    }
    let followId: string | null = null;
    // Followers first: each remembers where the file ended, and the tail is read up to exactly there, so no line is lost or sent twice.
    const followers = params.follow
      ? procs.map((p) => {
          const name = p.launch.name;
          const f = new LogFollower(
            p.status.logFile,
            (line) => ctx.notify('logs.line', { deploymentId: d.id, process: name, line, at: new Date().toISOString(), followId }),
            options.logPollMs ?? 250,
          );
          return { name, f };
        })
      : [];
    const logs = procs.map((p) => {
      const follower = followers.find((x) => x.name === p.launch.name);
      return { process: p.launch.name, file: p.status.logFile, lines: lastLogLines(p.status.logFile, params.lines, follower?.f.offset) };
    });
    if (params.follow) {
      const id = subscriptionId('follow');
      followId = id;
      const stop = () => {
        for (const x of followers) x.f.stop();
        follows.delete(id);
      };
      follows.set(id, { clientId: ctx.clientId, stop });
      ctx.signal.addEventListener('abort', stop, { once: true });
      for (const x of followers) x.f.start();
    }
    return { logs, followId };
  });

  api.registry.handle('logs.unfollow', (params, ctx) => ownedStop(follows, params.followId, ctx));

  api.onShutdown(() => {
    closed = true;
    for (const w of [...watches.values()]) w.stop();
    for (const f of [...follows.values()]) f.stop();
    if (started) sup.close();
  });
}

/** Resolves once `pidFile` names this process, i.e. this daemon owns the socket. Unref'd: a daemon that lost the race exits regardless. */
function whenOwnerOf(pidFile: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      let pid = NaN;
      try {
        pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      } catch {
        // Not written yet.
      }
      if (pid === process.pid) resolve();
      else setTimeout(check, 20).unref();
    };
    check();
  });
}

/** Stops a subscription, but only the client that made it may. */
function ownedStop(subs: Map<string, Subscription>, id: string, ctx: RpcContext): { ok: boolean } {
  const s = subs.get(id);
  if (!s || s.clientId !== ctx.clientId) return { ok: false };
  s.stop();
  return { ok: true };
}
