import http from 'node:http';
import type { RouterLeg } from '../../common/router-trace';
import type { Worker } from './worker-pool';

/**
 * connect: nothing reached the worker (refused, unreachable, connect timeout) — safe to retry elsewhere.
 * stale: a reused keep-alive socket was already closed by the worker — safe to retry (Node docs' advice).
 * reset: the connection broke after the request was sent.
 * http: the worker answered with an error status.
 * protocol: the worker answered something the router cannot use.
 * aborted: the router aborted the leg itself (client went away).
 */
export type UpstreamFailureKind = 'connect' | 'stale' | 'reset' | 'http' | 'protocol' | 'aborted';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly leg: RouterLeg,
    readonly worker: Worker,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
  get retryable(): boolean {
    return this.kind === 'connect' || this.kind === 'stale';
  }
}

const connectCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ETIMEDOUT']);

export interface UpstreamCall {
  readonly req: http.ClientRequest;
  /** Resolves with the response head (any status); rejects with UpstreamFailure. */
  readonly response: Promise<http.IncomingMessage>;
}

export interface CallOptions {
  worker: Worker;
  leg: RouterLeg;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  connectTimeoutMs: number;
}

export function callUpstream(o: CallOptions): UpstreamCall {
  const { worker, leg } = o;
  const headers: Record<string, string | number> = { ...o.headers };
  if (o.body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = o.body.length;
  }
  const req = http.request({
    host: worker.host,
    port: worker.port,
    method: o.method,
    path: worker.basePath + o.path,
    headers,
    agent: worker.agent,
  });
  let connectTimer: NodeJS.Timeout | undefined;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    let timedOut = false;
    req.on('socket', (socket) => {
      socket.setNoDelay(true);
      if (socket.connecting) {
        connectTimer = setTimeout(() => {
          timedOut = true;
          req.destroy();
        }, o.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      }
    });
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      resolve(res);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      const where = worker.label;
      if (timedOut) reject(new UpstreamFailure('connect', leg, worker, `${where} did not accept a connection within ${o.connectTimeoutMs} ms`));
      else if (err.code && connectCodes.has(err.code)) reject(new UpstreamFailure('connect', leg, worker, `${where} is unreachable (${err.code})`));
      else if (req.reusedSocket && err.code === 'ECONNRESET') reject(new UpstreamFailure('stale', leg, worker, `${where} closed an idle connection`));
      else if (req.destroyed && !err.code) reject(new UpstreamFailure('aborted', leg, worker, `${leg} leg aborted`));
      else reject(new UpstreamFailure('reset', leg, worker, `${where} dropped the connection (${err.code ?? err.message})`));
    });
  });
  // Unobserved rejections are handled by whoever awaits `response`; keep Node from flagging early ones.
  response.catch(() => {});
  req.end(o.body ?? undefined);
  return { req, response };
}

/** Reads a whole (small) upstream body, e.g. the prefill leg's JSON or an error body. */
export function readUpstreamBody(res: http.IncomingMessage, leg: RouterLeg, worker: Worker, limitBytes = 64 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) {
        res.destroy();
        reject(new UpstreamFailure('protocol', leg, worker, `${worker.label} sent a body over ${limitBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (err: NodeJS.ErrnoException) =>
      reject(new UpstreamFailure('reset', leg, worker, `${worker.label} dropped the connection while answering (${err.code ?? err.message})`)),
    );
    res.on('close', () => {
      if (!res.complete) reject(new UpstreamFailure('reset', leg, worker, `${worker.label} dropped the connection while answering`));
    });
  });
}
