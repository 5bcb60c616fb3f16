import { spawn } from 'node:child_process';
import { UserFacingError, describeZodError } from '../../common/errors';
import { KvprobeResult } from '../../common/kv/kvprobe-result';

/**
 * Runs one kvprobe (native or PyTorch) in its own process group: stderr lines
 * "progress <fraction> <message>" become progress callbacks, stdout's last line is the JSON result.
 * Aborting the signal stops the whole group (SIGTERM, then SIGKILL), since the native probe forks
 * its source process.
 */
export interface KvprobeRunOptions {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onProgress(fraction: number, message: string): void;
  timeoutMs: number;
}

const KILL_GRACE_MS = 3_000;

export function parseProgressLine(line: string): { fraction: number; message: string } | null {
  const m = /^progress (\d+(?:\.\d+)?) (.*)$/.exec(line.trim());
  if (!m) return null;
  const fraction = Math.min(1, Math.max(0, Number(m[1])));
  return { fraction, message: m[2]! };
}

/** Validates a probe's stdout: the last non-empty line must be a KvprobeResult. */
export function parseKvprobeOutput(stdout: string, program: string): KvprobeResult {
  const line = stdout.trim().split('\n').filter((l) => l.trim()).pop();
  if (!line) throw new UserFacingError('kvprobe-bad-output', `${program} printed no result. Run it by hand on the host to see why.`);
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new UserFacingError('kvprobe-bad-output', `${program} printed something that is not JSON: ${line.slice(0, 200)}`);
  }
  const r = KvprobeResult.safeParse(json);
  if (!r.success) throw new UserFacingError('kvprobe-bad-output', `${describeZodError(`the result of ${program}`, r.error)}. The probe and the agent may be different versions.`);
  return r.data;
}

export function runKvprobe(argv: string[], opts: KvprobeRunOptions): Promise<KvprobeResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('empty argv'));
  if (opts.signal.aborted) return Promise.reject(new UserFacingError('cancelled', 'The fabric probe was cancelled.'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const errLines: string[] = [];
    let errBuf = '';
    let timedOut = false;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    let killTimer: NodeJS.Timeout | null = null;
    const stop = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    opts.signal.addEventListener('abort', stop, { once: true });
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      errBuf += c.toString('utf8');
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      for (const l of lines) {
        const p = parseProgressLine(l);
        if (p) opts.onProgress(p.fraction, p.message);
        else if (l.trim()) errLines.push(l.trim());
      }
      if (errLines.length > 40) errLines.splice(0, errLines.length - 40);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new UserFacingError('kvprobe-failed', `Could not start ${file}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal.removeEventListener('abort', stop);
      if (errBuf.trim()) errLines.push(errBuf.trim());
      if (opts.signal.aborted) return reject(new UserFacingError('cancelled', 'The fabric probe was cancelled.'));
      if (timedOut) return reject(new UserFacingError('kvprobe-failed', `${file} did not finish within ${Math.round(opts.timeoutMs / 1000)} s and was stopped. Try fewer iterations or block counts.`));
      if (code !== 0) {
        const why = errLines.slice(-3).join(' | ') || `exit ${code ?? signal}`;
        return reject(new UserFacingError('kvprobe-failed', `The fabric probe failed on the host: ${why}`));
      }
      try {
        resolve(parseKvprobeOutput(Buffer.concat(out).toString('utf8'), file));
      } catch (err) {
        reject(err);
      }
    });
  });
}
