/**
 * Shared pieces of the mocker benchmarks: a streaming load client that counts SSE events without
 * parsing JSON (so the client is cheap next to the server), and process helpers.
 */
import http from 'node:http';
import { spawnGroup, waitForHttp, type ChildHandle } from '../e2e/mocker-harness';

const DATA_PREFIX = Buffer.from('data: ');

export interface StreamResult {
  events: number;
  sendAtMs: number;
  eventTimesMs: number[];
  doneAtMs: number;
}

/**
 * POSTs `body` and reads the SSE stream, recording when each `data:` event arrives. Events are
 * counted by their "data: " prefix; a prefix split across reads is handled by a small carry.
 */
export function streamRequest(agent: http.Agent, port: number, path: string, body: string, recordTimes: boolean, onHeaders?: () => void): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const sendAtMs = performance.now();
    const times: number[] = [];
    let events = 0;
    let carry: Buffer = Buffer.alloc(0);
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      onHeaders?.();
      res.on('data', (chunk: Buffer) => {
        // Byte search, no UTF-8 decoding: the client must stay cheap next to the server.
        const s = carry.length ? Buffer.concat([carry, chunk]) : chunk;
        let i = s.indexOf(DATA_PREFIX);
        while (i >= 0) {
          events++;
          if (recordTimes) times.push(performance.now());
          i = s.indexOf(DATA_PREFIX, i + 6);
        }
        carry = Buffer.from(s.subarray(Math.max(0, s.length - 5)));
      });
      res.on('end', () => resolve({ events, sendAtMs, eventTimesMs: times, doneAtMs: performance.now() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts a mocker process on one CPU core (taskset when available) and waits for /health. */
export async function startPinnedProcess(argv: string[], port: number, healthPath = '/health'): Promise<ChildHandle> {
  const pinned = (await hasTaskset()) ? ['taskset', '-c', '0', ...argv] : argv;
  const child = spawnGroup(pinned, { ...process.env });
  await waitForHttp(`http://127.0.0.1:${port}${healthPath}`, child, 60_000);
  return child;
}

let tasksetKnown: boolean | null = null;
async function hasTaskset(): Promise<boolean> {
  if (tasksetKnown !== null) return tasksetKnown;
  const { spawnSync } = await import('node:child_process');
  tasksetKnown = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return tasksetKnown;
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The 1-minute load average and core count, printed beside figures measured on a shared machine. */
export async function hostLoad(): Promise<{ load1: number; cores: number }> {
  const os = await import('node:os');
  return { load1: os.loadavg()[0] ?? 0, cores: os.cpus().length };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux), or null. */
export async function cpuSecondsOf(pid: number): Promise<number | null> {
  const fs = await import('node:fs');
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name; clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
