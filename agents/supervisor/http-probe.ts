import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * Plain HTTP GETs for readiness probes and /metrics scrapes: a fresh connection each time (no
 * keep-alive pool lingering in the daemon), a hard timeout and a body-size cap.
 */

export interface GetResult {
  status: number;
  body: string;
}

export function httpGet(url: string, opts: { timeoutMs: number; maxBytes?: number; signal?: AbortSignal }): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    const req = lib.get(url, { agent: false, timeout: opts.timeoutMs, signal: opts.signal, headers: { accept: 'text/plain, */*' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`response larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** One readiness probe: the HTTP status, or null when nothing answered. */
export async function probeStatus(url: string, timeoutMs = 2_000): Promise<number | null> {
  try {
    return (await httpGet(url, { timeoutMs, maxBytes: 64 * 1024 })).status;
  } catch {
    return null;
  }
}

/** Whether something accepts TCP connections at host:port (a stale server would pass our readiness probe). */
export function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
