import { spawn } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { RpcClient } from '../../../common/rpc-client';
import { UserFacingError } from '../../../common/errors';
import type { AgentResult } from '../../../common/agent-rpc';

/** A byte stream to `handoff-agent attach`, wherever it runs (local child, SSH exec channel). */
export interface AttachChannel {
  stdin: Writable;
  stdout: Readable;
  /** Last lines the attach process wrote to stderr, for error messages. */
  stderrTail(): string;
  close(): void;
}

export type OpenAttach = () => Promise<AttachChannel>;

export interface AgentConnection {
  rpc: RpcClient;
  hello: AgentResult<'agent.hello'>;
  /** Version of an older daemon that was replaced during this attach, if any. */
  replacedVersion: string | null;
  close(): void;
}

/**
 * Attaches to the host's agent daemon and does the version handshake. An older daemon is asked to
 * shut down and the attach retried, so a new app version always talks to its own agent version.
 */
export async function connectAgent(open: OpenAttach, version: string, peerName: string, signal?: AbortSignal): Promise<AgentConnection> {
  let replacedVersion: string | null = null;
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; ; attempt++) {
    const ch = await open();
    const rpc = RpcClient.fromStream(Duplex.from({ readable: ch.stdout, writable: ch.stdin }), { peerName, defaultTimeoutMs: 30_000 });
    let hello: AgentResult<'agent.hello'>;
    try {
      hello = await rpc.hello(version, { timeoutMs: 15_000, ...(signal ? { signal } : {}) });
    } catch (err) {
      rpc.close();
      ch.close();
      const tail = ch.stderrTail().trim();
      if (err instanceof UserFacingError && err.code === 'agent-disconnected' && tail) {
        throw new UserFacingError('agent-start-failed', `The agent on ${peerName} did not start: ${tail.slice(-800)}`);
      }
      throw err;
    }
    if (hello.agentVersion === version) {
      return { rpc, hello, replacedVersion, close: () => (rpc.close(), ch.close()) };
    }
    // An older (or newer) daemon holds the socket: replace it with ours.
    replacedVersion = hello.agentVersion;
    await rpc.call('agent.shutdown', {}, { timeoutMs: 10_000 }).catch(() => undefined);
    rpc.close();
    ch.close();
    if (Date.now() > deadline || attempt > 20) {
      throw new UserFacingError('agent-outdated', `The agent ${hello.agentVersion} on ${peerName} would not make way for ${version}. Stop it on the host (kill ${hello.pid}) and check again.`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Spawns `node <bundle> attach` on this computer; the agent daemon it starts outlives this process. */
export function localAttach(bundlePath: string, agentHome: string): OpenAttach {
  return async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HANDOFF_AGENT_HOME: agentHome };
    // Inside Electron, process.execPath is the app binary; this flag makes it behave as plain Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const child = spawn(process.execPath, [bundlePath, 'attach'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let tail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      tail = (tail + d).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new UserFacingError('agent-start-failed', `Could not start the local agent (${process.execPath} ${bundlePath}): ${err.message}`)));
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderrTail: () => tail,
      close: () => {
        child.stdin.end();
        if (child.exitCode === null) setTimeout(() => child.kill('SIGTERM'), 2000).unref();
      },
    };
  };
}
