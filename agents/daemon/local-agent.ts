import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import { agentLayout } from '../../common/agent-layout';
import { RpcClient } from '../../common/rpc-client';
import { HANDOFF_VERSION } from '../../common/version';
import { pidAlive } from './start-lock';

/**
 * Runs the bundled agent on this machine the way the controller does over SSH: a `handoff-agent
 * attach` child whose stdio carries JSON-RPC. Used by integration tests and benchmarks; the
 * process-group handling makes cleanup reliable even when a test fails half-way.
 */

export interface LocalAttach {
  child: ChildProcessWithoutNullStreams;
  client: RpcClient;
  /** What attach printed on stderr so far (startup errors). */
  stderr(): string;
  /** Resolves with the exit code once attach has exited. */
  exited: Promise<number | null>;
}

export function spawnAttach(bundlePath: string, home: string, opts: { env?: NodeJS.ProcessEnv; nodePath?: string; args?: string[] } = {}): LocalAttach {
  const child = spawn(opts.nodePath ?? process.execPath, [bundlePath, 'attach', '--home', home, ...(opts.args ?? [])], {
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const client = RpcClient.fromStreams(child.stdout, child.stdin, { peerName: 'the local agent', defaultTimeoutMs: 60_000 });
  return { child, client, stderr: () => err, exited };
}

export async function readDaemonPid(home: string): Promise<number | null> {
  try {
    const n = Number((await fs.readFile(agentLayout(home, HANDOFF_VERSION).pidFile, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** SIGTERM to the daemon's process group (it leads its own session), SIGKILL if it lingers. */
export async function stopDaemon(pid: number, graceMs = 5_000): Promise<void> {
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  if (!pidAlive(pid)) return;
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (pidAlive(pid)) signalGroup('SIGKILL');
}

/** Resident set size of a process from /proc, in bytes. */
export async function rssBytesOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/**
 * Every daemon whose working directory is `home` (attach starts them there), including one still
 * starting or one that lost a start race: what a test must stop so no daemon outlives it. Linux only.
 */
export async function daemonsIn(home: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await fs.readlink(`/proc/${entry}/cwd`).catch(() => null);
    if (cwd === home || cwd === `${home} (deleted)`) pids.push(Number(entry));
  }
  return pids.filter((p) => p !== process.pid && pidAlive(p));
}

/** Stops the daemon of `home` and any other that started there, until none is left. */
export async function stopAllDaemonsIn(home: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const pid = await readDaemonPid(home);
    const pids = new Set([...(pid ? [pid] : []), ...(await daemonsIn(home))]);
    if (pids.size === 0) return;
    await Promise.all([...pids].map((p) => stopDaemon(p)));
    // A daemon that lost a start race may be about to take the freed socket; look again.
    await new Promise((r) => setTimeout(r, 200));
  }
}
