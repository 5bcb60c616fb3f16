import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import { candidatePythons, which } from '../host/python-envs';

/**
 * Runs genai-perf or aiperf on this host: found next to a Python interpreter that has the package
 * (the same interpreters host.info reports), started from an argv array in its own process group,
 * its output logged to the run and read for progress, stopped with SIGINT → SIGTERM → SIGKILL on the
 * group.
 */

async function isExecutable(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p, fs.constants.X_OK);
    return (await fs.promises.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The tool's console script: next to a discovered Python, or on PATH. */
export async function findTool(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  for (const py of await candidatePythons(env, env.HOME ?? os.homedir())) {
    const p = path.join(path.dirname(py), tool);
    if (await isExecutable(p)) return p;
  }
  return which(tool, env);
}

export interface ToolProgress {
  done: number | null;
  total: number | null;
  message: string;
  warmup: boolean;
}

// ANSI colour and cursor codes (progress bars redraw lines).
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

/**
 * Reads a progress figure from one output line, when it has one: "12/40", "12 / 40 requests",
 * "Requests: 12/40", or a percentage. Lines without one only update the message.
 */
export function parseToolProgress(line: string): ToolProgress | null {
  const clean = line.replace(ANSI, '').trim();
  if (!clean) return null;
  // AIPerf's progress bars: "Warmup: 4/10 |███ | 40% …", "Profiling: 12/40 |…"; its
  // "Processing Records: n/m" bar counts records processed after the load, not requests sent.
  const bar = /\b(Warmup|Profiling)\s*:\s*(\d+)\s*\/\s*(\d+)/i.exec(clean);
  if (bar) return { done: Number(bar[2]), total: Number(bar[3]), message: clean.slice(0, 300), warmup: /warm/i.test(bar[1]!) };
  const frac = /(\d+)\s*\/\s*(\d+)(?!\s*(?:s\b|ms\b|sec))/.exec(clean);
  if (frac && !/processing/i.test(clean) && /request|progress|complet|%/i.test(clean)) {
    const done = Number(frac[1]);
    const total = Number(frac[2]);
    if (total > 0 && done <= total) return { done, total, message: clean.slice(0, 300), warmup: /warm/i.test(clean) };
  }
  return { done: null, total: null, message: clean.slice(0, 300), warmup: false };
}

export interface ToolProcess {
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop(): void;
  pid: number | undefined;
}

export function startTool(file: string, argv: string[], opts: { cwd: string; logFile: string; onLine: (line: string) => void; env?: NodeJS.ProcessEnv }): ToolProcess {
  const log = fs.openSync(opts.logFile, 'a', 0o600);
  fs.writeSync(log, `$ ${[file, ...argv].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}\n`);
  const child = spawn(file, argv, {
    cwd: opts.cwd,
    // Plain output for parsing: no colours, no full-screen dashboard.
    env: { ...(opts.env ?? process.env), NO_COLOR: '1', TERM: 'dumb', PYTHONUNBUFFERED: '1', COLUMNS: '200' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let carry = '';
  const onData = (d: Buffer): void => {
    fs.writeSync(log, d);
    const text = carry + d.toString('utf8');
    const lines = text.split(/\r\n|\r|\n/);
    carry = lines.pop() ?? '';
    for (const l of lines) opts.onLine(l);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('error', (err) => {
      fs.writeSync(log, `failed to start: ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => {
      if (carry) opts.onLine(carry);
      fs.closeSync(log);
      resolve({ code, signal });
    });
  });
  const kill = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // the group is gone
    }
  };
  let stopping = false;
  return {
    exited,
    pid: child.pid,
    stop() {
      if (stopping) return;
      stopping = true;
      kill('SIGINT');
      const t1 = setTimeout(() => kill('SIGTERM'), 5_000);
      const t2 = setTimeout(() => kill('SIGKILL'), 10_000);
      void exited.then(() => {
        clearTimeout(t1);
        clearTimeout(t2);
      });
    },
  };
}

export function toolMissingError(tool: string): UserFacingError {
  const pkg = tool === 'aiperf' ? 'aiperf' : 'genai-perf (and the perf-analyzer wheel)';
  return new UserFacingError('tool-missing', `${tool} is not installed on this host. Install ${pkg} with pip in a Python environment the agent finds (~/.venv*, conda, or HANDOFF_PYTHONS), or pass toolPath; or run the built-in load generator (tool "builtin").`);
}
