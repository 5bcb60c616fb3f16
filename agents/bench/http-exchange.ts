import http from 'node:http';

/**
 * One HTTP POST with every body piece timestamped on arrival. This is the load generator's hot
 * path: the 'data' handler does nothing but read the monotonic clock and keep the buffer; parsing
 * happens after the response ended (response-record.ts), so parsing never delays a timestamp.
 */

export interface RawExchange {
  /** HTTP status; 0 when no response head arrived. */
  status: number;
  /** Monotonic clock (process.hrtime.bigint) just before the request was written. */
  sendNs: bigint;
  pieces: Buffer[];
  /** Arrival time of each piece, same clock. */
  times: bigint[];
  /** When the response ended or failed. */
  endNs: bigint;
  /** Transport failure (connection refused, reset, aborted); null when the response completed. */
  error: string | null;
  /** True when the caller's signal stopped it. */
  cancelled: boolean;
}

export interface ExchangeTarget {
  agent: http.Agent;
  hostname: string;
  port: number;
  path: string;
}

export function targetOf(url: string, path: string, agent: http.Agent): ExchangeTarget {
  const u = new URL(url);
  const base = u.pathname.replace(/\/+$/, '');
  return { agent, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path: `${base}${path}` };
}

export function postExchange(t: ExchangeTarget, body: Buffer, requestId: string, signal?: AbortSignal): Promise<RawExchange> {
  return new Promise((resolve) => {
    const ex: RawExchange = { status: 0, sendNs: 0n, pieces: [], times: [], endNs: 0n, error: null, cancelled: false };
    let settled = false;
    const finish = (error: string | null): void => {
      if (settled) return;
      settled = true;
      ex.endNs = process.hrtime.bigint();
      ex.error = error;
      signal?.removeEventListener('abort', onAbort);
      resolve(ex);
    };
    const req = http.request({
      agent: t.agent,
      hostname: t.hostname,
      port: t.port,
      path: t.path,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-request-id': requestId, accept: 'application/json, text/event-stream' },
    });
    const onAbort = (): void => {
      ex.cancelled = true;
      req.destroy(new Error('cancelled'));
    };
    if (signal) {
      if (signal.aborted) {
        ex.cancelled = true;
        finish('cancelled');
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    req.on('response', (res) => {
      ex.status = res.statusCode ?? 0;
      res.on('data', (b: Buffer) => {
        ex.times.push(process.hrtime.bigint());
        ex.pieces.push(b);
      });
      res.on('end', () => finish(null));
      res.on('error', (err) => finish(err.message));
      res.on('aborted', () => finish('the server closed the connection before the response ended'));
    });
    req.on('error', (err) => finish(ex.cancelled ? 'cancelled' : err.message));
    req.setNoDelay?.(true);
    ex.sendNs = process.hrtime.bigint();
    req.end(body);
  });
}
