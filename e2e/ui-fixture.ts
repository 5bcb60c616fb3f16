import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServe } from '../electron/cli/serve';
import type { ServeHandle } from '../electron/cli/serve-server';
import { agentArtifactsForTests, shutdownLocalAgent } from './harness/controller-fixture';

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
        await fs.rm(home, { recursive: true, force: true });
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
