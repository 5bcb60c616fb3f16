import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createController, type Controller } from '../../electron/control/controller';
import type { AgentArtifacts } from '../../electron/control/agent/agent-install';
import { buildAgentBundle } from '../../build/agent-bundle';
import { buildNodeRuntime } from '../../build/node-runtime';
import { HANDOFF_VERSION } from '../../common/version';
import { isTaskFinished, type Task, type TaskAnswer } from '../../common/task';

let bundle: Promise<string> | null = null;

/**
 * The real agent bundle (built once per test process) and the real runtime tarball. No prebuilt
 * kvprobe unless a test passes one, so tests do not depend on whether this machine has nvcc.
 */
export async function agentArtifactsForTests(opts: { kvprobePrebuiltDir?: string } = {}): Promise<AgentArtifacts> {
  bundle ??= buildAgentBundle();
  return { version: HANDOFF_VERSION, bundlePath: await bundle, runtimeTarball: (arch) => buildNodeRuntime(arch), ...opts };
}

export interface ControllerFixture {
  controller: Controller;
  home: string;
  userHome: string;
  /** Runs a task to completion, answering each prompt with `answer` (or refusing when it returns null). */
  finish(task: Task, answer?: (t: Task) => TaskAnswer | null): Promise<Task>;
  close(): Promise<void>;
}

/** A controller with its own HANDOFF_HOME, empty ~/.ssh/known_hosts and ssh config, and a private local agent home. */
export async function startControllerFixture(opts: { artifacts?: AgentArtifacts } = {}): Promise<ControllerFixture> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-ctl-'));
  const userHome = path.join(home, 'user');
  await fs.mkdir(path.join(userHome, '.ssh'), { recursive: true });
  const artifacts = opts.artifacts ?? (await agentArtifactsForTests());
  const controller = await createController({
    home,
    mode: 'cli',
    artifacts,
    localAgentHome: path.join(home, 'local-agent'),
    ssh: { userKnownHostsFile: path.join(userHome, '.ssh', 'known_hosts'), sshConfigFile: path.join(userHome, '.ssh', 'config') },
  });
  const finish = (task: Task, answer?: (t: Task) => TaskAnswer | null) =>
    new Promise<Task>((resolve) => {
      const onTask = (t: Task) => {
        if (t.id !== task.id) return;
        if (t.state === 'needs-input' && t.prompt) {
          const a = answer?.(t) ?? (t.prompt.kind === 'trust-host-key' ? { kind: 'trust-host-key' as const, trust: false } : { kind: 'passphrase' as const, passphrase: null });
          controller.tasks.answer(t.id, a);
        }
        if (isTaskFinished(t)) {
          controller.tasks.off('updated', onTask);
          resolve(t);
        }
      };
      controller.tasks.on('updated', onTask);
      onTask(controller.tasks.get(task.id));
    });
  return {
    controller,
    home,
    userHome,
    finish,
    close: async () => {
      await controller.close();
      await shutdownLocalAgent(path.join(home, 'local-agent'));
      await removeTestHome(home);
    },
  };
}

/**
 * Closes a fixture after tearing down only the deployments a failed test left running: tearing
 * down a stopped deployment again rewrites its state while the home is being removed.
 */
export async function closeFixtureWithDeployments(fx: ControllerFixture | undefined): Promise<void> {
  if (!fx) return;
  for (const d of await fx.controller.deployments.list()) if (d.stoppedAt === null) await fx.controller.deployments.teardown(d.id).catch(() => undefined);
  await fx.close();
}

/**
 * Stops a local daemon started by a test (its pid file is under the agent home) and waits for it to
 * exit: a daemon still saving deployment state while the test removes its home makes rm fail.
 */
export async function shutdownLocalAgent(agentHome: string): Promise<void> {
  const pid = Number(await fs.readFile(path.join(agentHome, 'agent.pid'), 'utf8').catch(() => 'NaN'));
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Removes a test's home; retries while a process that just exited leaves files behind. */
export async function removeTestHome(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

export const trustAll = (t: Task): TaskAnswer | null => (t.prompt?.kind === 'trust-host-key' ? { kind: 'trust-host-key', trust: true } : null);
