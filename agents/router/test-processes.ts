/**
 * Starting routers, mockers and fake engines as real child processes for integration tests and
 * benchmarks. Each child runs in its own process group (argv array, no shell) and is stopped with
 * SIGTERM then SIGKILL on the group, as DESIGN.md asks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const agentMain = path.join(repoRoot, 'agents/main.ts');

export interface ChildHandle {
  readonly pid: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** stderr and stdout seen so far. */
  output(): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function spawnTs(script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
}

function handle(child: ChildProcess, url: string, out: () => string): ChildHandle {
  let exited: Promise<number | null> | null = null;
  const exitPromise = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    pid: child.pid!,
    url,
    child,
    output: out,
    stop(graceMs = 3000) {
      exited ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        const kill = (sig: NodeJS.Signals): void => {
          try {
            process.kill(-child.pid!, sig);
          } catch {
            // group already gone
          }
        };
        kill('SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), graceMs);
        const code = await exitPromise;
        clearTimeout(timer);
        kill('SIGKILL');
        return code;
      })();
      return exited;
    },
  };
}

function collect(child: ChildProcess): { text: () => string; onLine: (f: (line: string) => void) => void } {
  let text = '';
  const listeners: ((line: string) => void)[] = [];
  let partial = '';
  const onData = (c: Buffer): void => {
    const s = c.toString();
    if (text.length < 1 << 20) text += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) for (const f of listeners) f(l);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { text: () => text, onLine: (f) => listeners.push(f) };
}

function waitForLine(child: ChildProcess, lines: ReturnType<typeof collect>, what: string, match: (line: string) => string | null, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${lines.text()}`)), timeoutMs);
    lines.onLine((l) => {
      const v = match(l);
      if (v !== null) {
        clearTimeout(timer);
        resolve(v);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code} before it was ready:\n${lines.text()}`));
    });
  });
}

/** `handoff-agent router ARGS` (pass `--port 0`); resolves once it logged its listening URL. */
export async function spawnRouter(args: string[], timeoutMs = 30_000): Promise<ChildHandle> {
  const child = spawnTs(agentMain, ['router', ...args]);
  const lines = collect(child);
  const url = await waitForLine(
    child,
    lines,
    'router',
    (l) => {
      try {
        const v = JSON.parse(l) as { msg?: string; url?: string };
        return v.msg === 'router listening' && typeof v.url === 'string' ? v.url : null;
      } catch {
        return null;
      }
    },
    timeoutMs,
  ).catch(async (err: unknown) => {
    await handle(child, '', lines.text).stop();
    throw err;
  });
  return handle(child, url, lines.text);
}

/** Polls GET url until it answers 200. */
export async function waitForHttp200(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`process exited (code ${child.exitCode}) before ${url} answered`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `handoff-agent mocker MODEL --port P ARGS` (vLLM serve flags); resolves when /health answers 200. */
export async function spawnMocker(model: string, args: string[], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<ChildHandle> {
  const port = await freePort();
  const child = spawnTs(agentMain, ['mocker', model, '--port', String(port), ...args], env);
  const lines = collect(child);
  const h = handle(child, `http://127.0.0.1:${port}`, lines.text);
  try {
    await waitForHttp200(`${h.url}/health`, timeoutMs, child);
  } catch (err) {
    await h.stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${lines.text()}`);
  }
  return h;
}

/** The fake engine of fake-vllm.ts in its own process (options as JSON); resolves when it listens. */
export async function spawnFakeVllm(options: Record<string, unknown>, timeoutMs = 30_000): Promise<ChildHandle> {
  const child = spawnTs(path.join(repoRoot, 'agents/router/fake-vllm-main.ts'), [JSON.stringify(options)]);
  const lines = collect(child);
  const url = await waitForLine(child, lines, 'fake vLLM', (l) => (l.startsWith('listening ') ? l.slice('listening '.length).trim() : null), timeoutMs).catch(async (err: unknown) => {
    await handle(child, '', lines.text).stop();
    throw err;
  });
  return handle(child, url, lines.text);
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  // Fields after the command name "(…)": state is field 3, utime 14, stime 15 (proc(5)).
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / clockTicksPerSecond;
}

/** Linux USER_HZ; 100 on every mainstream kernel configuration. */
const clockTicksPerSecond = 100;

/** `node -e SOURCE` in its own process group; resolves when it prints `listening`. */
export async function spawnNodeEval(source: string, url: string, timeoutMs = 10_000): Promise<ChildHandle> {
  const child = spawn(process.execPath, ['-e', source], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = collect(child);
  await waitForLine(child, lines, 'node -e', (l) => (l.startsWith('listening') ? l : null), timeoutMs).catch(async (err: unknown) => {
    await handle(child, '', lines.text).stop();
    throw err;
  });
  return handle(child, url, lines.text);
}

/** Runs `handoff-agent ARGS` to completion; returns its exit code and output. */
export async function runAgentCommand(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawnTs(agentMain, args);
  const lines = collect(child);
  const h = handle(child, '', lines.text);
  const timer = setTimeout(() => void h.stop(), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (c) => resolve(c));
  });
  clearTimeout(timer);
  return { code, output: lines.text() };
}
