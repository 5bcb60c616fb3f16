import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import { parseArgs } from 'node:util';
import { agentLayout, type AgentLayout } from '../../common/agent-layout';
import { HANDOFF_VERSION } from '../../common/version';
import { resolveAgentHome } from './agent-home';
import { connectUnix } from './socket-probe';

/**
 * `handoff-agent attach [--home DIR] [--start-timeout-ms N]`: what the controller runs on each SSH
 * exec channel. Connects stdin/stdout to the daemon's socket byte for byte, starting the daemon
 * first if none is running. Runs on every connect, so it imports nothing heavy (no zod, no
 * handlers). EOF on stdin (the SSH channel dropped or the controller is done) ends it; the daemon
 * keeps running.
 */

/** Same value as daemon-cli's EXIT_ALREADY_RUNNING; not imported so attach does not load the daemon module. */
const DAEMON_EXIT_ALREADY_RUNNING = 3;
/** After stdin EOF, replies already in flight are still forwarded for this long. */
const DRAIN_AFTER_EOF_MS = 5_000;

export async function runAttachCli(argv: string[]): Promise<number> {
  let values: { home?: string; 'start-timeout-ms'?: string; 'no-start'?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { home: { type: 'string' }, 'start-timeout-ms': { type: 'string' }, 'no-start': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return fail(`${err instanceof Error ? err.message : String(err)}\nusage: handoff-agent attach [--home DIR] [--start-timeout-ms N] [--no-start]`, 2);
  }
  const timeoutMs = values['start-timeout-ms'] === undefined ? 15_000 : Number(values['start-timeout-ms']);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return fail(`--start-timeout-ms must be a positive number of milliseconds, got "${values['start-timeout-ms']}"`, 2);
  const home = values.home ?? resolveAgentHome();
  const layout = agentLayout(home, HANDOFF_VERSION);

  let sock = await tryConnect(layout.socket);
  if (!sock) {
    if (values['no-start']) return fail(`no agent daemon is listening on ${layout.socket} (and --no-start was given)`, 1);
    try {
      sock = await startDaemonAndConnect(layout, timeoutMs);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err), 1);
    }
  }
  return bridge(sock);
}

function fail(message: string, code: number): number {
  process.stderr.write(`handoff-agent attach: ${message}\n`);
  return code;
}

async function tryConnect(socketPath: string): Promise<net.Socket | null> {
  try {
    return await connectUnix(socketPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return null;
    throw new Error(`cannot connect to the agent socket ${socketPath}: ${(err as Error).message}`);
  }
}

/**
 * The daemon is started detached (own session and process group) with its output appended to the
 * log, so it is not tied to this SSH channel and survives it. Two attaches racing both start one;
 * the loser exits with DAEMON_EXIT_ALREADY_RUNNING and both connect to the winner.
 */
async function startDaemonAndConnect(layout: AgentLayout, timeoutMs: number): Promise<net.Socket> {
  fs.mkdirSync(layout.home, { recursive: true, mode: 0o700 });
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which agent bundle is running (process.argv[1] is empty)');
  const logFd = fs.openSync(layout.daemonLog, 'a', 0o600);
  const logStart = fs.fstatSync(logFd).size;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  try {
    // execArgv carries loaders (tsx in development) and V8 flags through to the daemon.
    const child = spawn(process.execPath, [...process.execArgv, script, 'daemon', '--home', layout.home], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: layout.home,
      env: process.env,
    });
    child.on('exit', (code, signal) => (exited = { code, signal }));
    child.on('error', (err) => (spawnError = err));
    child.unref();
  } finally {
    fs.closeSync(logFd);
  }

  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 100)) {
    const sock = await tryConnect(layout.socket);
    if (sock) return sock;
    if (spawnError) throw new Error(`could not start the agent daemon with ${process.execPath}: ${(spawnError as Error).message}`);
    const ex = exited as { code: number | null; signal: NodeJS.Signals | null } | null;
    if (ex && ex.code !== DAEMON_EXIT_ALREADY_RUNNING) {
      throw new Error(`the agent daemon exited during startup (${ex.signal ?? `code ${ex.code}`}). Its log ${layout.daemonLog} says:\n${logTail(layout.daemonLog, logStart)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`the agent daemon did not open ${layout.socket} within ${Math.round(timeoutMs / 1000)} s. Its log ${layout.daemonLog} says:\n${logTail(layout.daemonLog, logStart)}`);
    }
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

function logTail(path: string, from: number): string {
  try {
    const text = fs.readFileSync(path, 'utf8').slice(from);
    return text.trim().split('\n').slice(-20).join('\n') || '(nothing)';
  } catch {
    return '(no log)';
  }
}

/** Bytes in both directions, unchanged. Resolves never: the process exits when either side ends. */
function bridge(sock: net.Socket): Promise<number> {
  return new Promise(() => {
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      // stdout is a pipe (synchronous on Linux), so what was written has left by now.
      process.exit(code);
    };
    sock.on('data', (chunk: Buffer) => {
      if (!process.stdout.write(chunk)) {
        sock.pause();
        process.stdout.once('drain', () => sock.resume());
      }
    });
    sock.on('end', () => finish(0));
    sock.on('close', () => finish(0));
    sock.on('error', (err) => {
      process.stderr.write(`handoff-agent attach: connection to the agent daemon failed: ${err.message}\n`);
      finish(1);
    });
    process.stdout.on('error', () => finish(0));
    process.stdin.on('data', (chunk: Buffer) => {
      if (!sock.write(chunk)) {
        process.stdin.pause();
        sock.once('drain', () => process.stdin.resume());
      }
    });
    process.stdin.on('end', () => {
      sock.end();
      setTimeout(() => finish(0), DRAIN_AFTER_EOF_MS).unref();
    });
    process.stdin.on('error', () => finish(0));
  });
}
