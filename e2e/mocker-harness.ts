/**
 * Helpers for the mocker's cross-process tests: start mocker processes (own process group, killed
 * with the group), HTTP and SSE helpers, a small Prometheus text parser, Python venv discovery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ChildHandle {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns argv in its own process group; stop() sends SIGTERM to the group, then SIGKILL. */
export function spawnGroup(argv: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): ChildHandle {
  const proc = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const kill = (sig: NodeJS.Signals): void => {
        try {
          process.kill(-proc.pid!, sig);
        } catch {
          // group already gone
        }
      };
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A mocker process: `node --import tsx agents/main.ts mocker …`. */
export function spawnMocker(args: string[], env: Record<string, string> = {}): ChildHandle {
  return spawnGroup([process.execPath, '--import', 'tsx', 'agents/main.ts', 'mocker', ...args], { ...process.env, ...env });
}

export async function waitForHttp(url: string, child?: ChildHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (child && child.proc.exitCode !== null) throw new Error(`process exited before ${url} answered:\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms${child ? ':\n' + child.output() : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    // not JSON (SSE)
  }
  return { status: r.status, json, text, headers: r.headers };
}

/** The `data:` payloads of an SSE body, in order ("[DONE]" included as a string). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((e) => e.trim())
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses Prometheus text exposition format 0.0.4; throws on any line that does not conform, so a
 * test using it also proves the text parses.
 */
export function parsePrometheus(text: string): { samples: PromSample[]; types: Map<string, string> } {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleRe = new RegExp(`^(${name})(\\{(.*)\\})?\\s+(\\S+)(\\s+\\d+)?$`);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      if (!m) throw new Error(`bad TYPE line: ${line}`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let consumed = 0;
      for (const lm of m[3].matchAll(labelRe)) {
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed += lm[0].length;
      }
      if (consumed !== m[3].length) throw new Error(`bad labels: ${line}`);
    }
    const v = m[4]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
    if (Number.isNaN(value) && v !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

export async function metricValue(baseUrl: string, metric: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const { samples } = parsePrometheus(text);
  return samples
    .filter((s) => s.name === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** Polls until `cond` holds (no timing assertions: only a generous deadline against hangs). */
export async function eventually(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Python of a venv this repo builds with e2e/python/setup-envs.sh, or a reason it is missing. */
export function venvPython(name: '.venv-vllm' | '.venv-tools'): { python: string } | { missing: string } {
  const py = path.join(REPO_ROOT, name, 'bin', 'python');
  const stamp = path.join(REPO_ROOT, name, '.handoff-stamp');
  if (!fs.existsSync(py) || !fs.existsSync(stamp)) return { missing: `${name} is not built (run e2e/python/setup-envs.sh; .ci/run does)` };
  return { python: py };
}

export function toyProxyPath(): string | null {
  const dir = path.join(REPO_ROOT, '.cache');
  if (!fs.existsSync(dir)) return null;
  for (const d of fs.readdirSync(dir).filter((x) => x.startsWith('vllm-')).sort().reverse()) {
    const p = path.join(dir, d, 'toy_proxy_server.py');
    if (fs.existsSync(p)) return p;
  }
  return null;
}
