import { spawn } from 'node:child_process';

/**
 * Runs a discovery tool (nvidia-smi, python, nvcc…) from an argv array, never a shell, in its own
 * process group with a timeout that kills the whole group: a wrapper such as a pyenv shim must not
 * leave a grandchild holding the pipes open. A missing executable is a normal answer (found:false).
 */
export interface ToolRun {
  found: boolean;
  /** Exit code; null when killed (timeout) or not started. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Why it could not start or finish, for the `detail` shown to users. */
  error?: string;
}

export interface RunToolOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  maxOutputBytes?: number;
  /** Aborting kills the whole process group, as a timeout does (e.g. a cancelled kvprobe build). */
  signal?: AbortSignal;
}

export type RunTool = (file: string, args: string[], opts?: RunToolOptions) => Promise<ToolRun>;

export const runTool: RunTool = (file, args, opts = {}) => {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxOutput = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  // C locale: tools print the English, dot-decimal output the parsers expect.
  const env = { ...(opts.env ?? process.env), LC_ALL: 'C', LANG: 'C' };
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      resolve({ found: false, code: null, stdout: '', stderr: '', timedOut: false, error: (err as Error).message });
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let outBytes = 0;
    let timedOut = false;
    let settled = false;
    const done = (r: Omit<ToolRun, 'stdout' | 'stderr'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(hardStop);
      resolve({ ...r, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes <= maxOutput) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(errOut));
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    if (opts.signal?.aborted) killGroup();
    opts.signal?.addEventListener('abort', killGroup, { once: true });
    child.on('close', () => opts.signal?.removeEventListener('abort', killGroup));
    // If something still holds the pipes after the kill, give up waiting for 'close'.
    const hardStop = setTimeout(() => done({ found: true, code: null, timedOut: true, error: `timed out after ${timeoutMs} ms` }), timeoutMs + 2_000);
    timer.unref?.();
    hardStop.unref?.();
    child.on('error', (err: NodeJS.ErrnoException) => {
      const missing = err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'ENOTDIR';
      done({ found: !missing, code: null, timedOut: false, error: err.message });
    });
    child.on('close', (code) => {
      done({ found: true, code, timedOut, ...(timedOut ? { error: `timed out after ${timeoutMs} ms` } : {}) });
    });
  });
};

/** First non-empty line of a failed run, for a one-line `detail`. */
export function failureDetail(r: ToolRun): string {
  const line = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).find((l) => l.length > 0);
  if (r.timedOut) return r.error ?? 'timed out';
  return line ?? r.error ?? `exited with code ${r.code}`;
}
