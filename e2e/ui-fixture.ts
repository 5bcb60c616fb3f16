import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startServe } from '../electron/cli/serve';
import type { ServeHandle } from '../electron/cli/serve-server';
import { agentArtifactsForTests, removeTestHome, shutdownLocalAgent } from './harness/controller-fixture';

const HARNESS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'harness');

export interface UiServer {
  serve: ServeHandle;
  home: string;
  close(): Promise<void>;
}

/**
 * `handoff serve` with the real controller in a throwaway HANDOFF_HOME, isolated from the user's
 * ~/.ssh (empty known_hosts and config) and ssh-agent, so trust prompts appear as for a new user.
 */
export async function startUiServer(opts: { staticDir?: string } = {}): Promise<UiServer> {
  delete process.env.SSH_AUTH_SOCK;
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-ui-'));
  const userSsh = path.join(home, 'user-ssh');
  await fs.mkdir(userSsh, { recursive: true });
  const localAgentHome = path.join(home, 'local-agent');
  try {
    const serve = await startServe({
      home,
      ...(opts.staticDir ? { staticDir: opts.staticDir } : {}),
      controller: {
        artifacts: await agentArtifactsForTests(),
        localAgentHome,
        ssh: { userKnownHostsFile: path.join(userSsh, 'known_hosts'), sshConfigFile: path.join(userSsh, 'config') },
      },
    });
    return {
      serve,
      home,
      close: async () => {
        await serve.close();
        await shutdownLocalAgent(localAgentHome);
        await removeTestHome(home);
      },
    };
  } catch (err) {
    await fs.rm(home, { recursive: true, force: true });
    throw err;
  }
}

/** Screenshots kept as test artifacts, under test-results/screenshots/. */
export function screenshotPath(name: string): string {
  return path.join('test-results', 'screenshots', `${name}.png`);
}

/** One API call over the same WebSocket the page uses (no Origin header: not a browser). */
export async function apiCall<T = unknown>(ui: UiServer, method: string, params?: unknown): Promise<T> {
  const ws = new WebSocket(`ws://127.0.0.1:${ui.serve.port}/api?token=${encodeURIComponent(ui.serve.token)}`, { maxPayload: 1 << 30 });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return await new Promise<T>((resolve, reject) => {
      ws.on('message', (data: WebSocket.RawData) => {
        const msg = JSON.parse(String(data)) as { id?: number; ok?: boolean; result?: T; error?: { message: string } };
        if (msg.id !== 1) return;
        if (msg.ok) resolve(msg.result as T);
        else reject(new Error(`${method}: ${msg.error?.message}`));
      });
      ws.send(JSON.stringify({ id: 1, method, params }));
    });
  } finally {
    ws.close();
  }
}

/**
 * Puts a fake nvidia-smi first on PATH: the local agent inherits the controller's environment, so
 * "This computer" gets `count` GPUs (the first `busy` of them in use). Returns the undo.
 */
export async function useFakeGpus(opts: { count: number; busy?: number }): Promise<() => Promise<void>> {
  const saved = { PATH: process.env.PATH, FAKE_GPU_COUNT: process.env.FAKE_GPU_COUNT, FAKE_GPU_BUSY: process.env.FAKE_GPU_BUSY };
  const fakeBin = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-fakebin-'));
  await fs.copyFile(path.join(HARNESS_DIR, 'fake-nvidia-smi.sh'), path.join(fakeBin, 'nvidia-smi'));
  await fs.chmod(path.join(fakeBin, 'nvidia-smi'), 0o755);
  process.env.PATH = `${fakeBin}:${saved.PATH ?? ''}`;
  process.env.FAKE_GPU_COUNT = String(opts.count);
  if (opts.busy !== undefined) process.env.FAKE_GPU_BUSY = String(opts.busy);
  else delete process.env.FAKE_GPU_BUSY;
  return async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await fs.rm(fakeBin, { recursive: true, force: true });
  };
}
