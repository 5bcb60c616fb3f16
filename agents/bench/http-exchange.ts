import net from 'node:net';
import { HttpProtocolError, ResponseParser } from './http-response-parser';

/**
 * HTTP POSTs over a pool of keep-alive sockets with every socket read timestamped on arrival. This
 * is the load generator's hot path: each read costs one clock read, an incremental parse
 * (http-response-parser.ts) that copies body bytes once into the exchange's growing body buffer,
 * and two array pushes; turning bodies into records happens after the response ended
 * (response-record.ts), so parsing never delays a timestamp. Sockets read into one reused buffer
 * (`onread`), which spares a Buffer allocation and its GC per read; the request head is serialised
 * once per pool and only the request id and length vary.
 */

export interface RawExchange {
  /** HTTP status; 0 when no response head arrived. */
  status: number;
  /** Monotonic clock (process.hrtime.bigint) just before the request was written. */
  sendNs: bigint;
  /** The response body, de-chunked: complete, or as far as it arrived when the exchange failed. */
  body: Buffer;
  /** For each socket read that carried body bytes: where its bytes end in `body`. */
  pieceEnds: number[];
  /** Arrival time of each of those reads, same clock. */
  times: bigint[];
  /** When the response ended or failed. */
  endNs: bigint;
  /** Transport or protocol failure (refused, reset, malformed response, dropped mid-body); null when the response completed. */
  error: string | null;
  /** True when the caller's signal stopped it. */
  cancelled: boolean;
}

interface Pending {
  ex: RawExchange;
  request: Buffer;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (ex: RawExchange) => void;
  /** Retried once on a fresh socket when a reused one turns out closed before any reply. */
  retried: boolean;
}

const SAFE_HEADER_VALUE = /^[\x21-\x7e]+$/;
const READ_BUFFER_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

class Connection {
  readonly socket: net.Socket;
  private parser = new ResponseParser();
  private pending: Pending | null = null;
  /** Responses completed on this socket; a reused socket may have been closed by the server. */
  served = 0;
  private gotBytes = false;
  private closed = false;
  private body = EMPTY;
  private bodyLength = 0;
  private readonly append = (src: Buffer, start: number, end: number): void => {
    const n = end - start;
    if (this.bodyLength + n > this.body.length) {
      const grown = Buffer.allocUnsafe(Math.max(2048, (this.bodyLength + n) * 4));
      grown.set(this.body.subarray(0, this.bodyLength));
      this.body = grown;
    }
    this.body.set(src.subarray(start, end), this.bodyLength);
    this.bodyLength += n;
  };

  constructor(private readonly pool: ExchangePool) {
    this.socket = net.connect({
      host: pool.hostname,
      port: pool.port,
      noDelay: true,
      onread: {
        buffer: pool.readBuffer,
        callback: (n: number) => {
          this.onData(pool.readBuffer, n);
          return true;
        },
      },
    });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (err: Error) => this.onClose(err.message));
    this.socket.on('close', () => this.onClose(null));
  }

  send(p: Pending): void {
    this.pending = p;
    this.parser = new ResponseParser();
    this.gotBytes = false;
    this.body = EMPTY;
    this.bodyLength = 0;
    p.ex.sendNs = process.hrtime.bigint();
    this.socket.write(p.request);
  }

  /** `buf` is the pool's shared read buffer: valid only during this call. */
  private onData(buf: Buffer, n: number): void {
    const t = process.hrtime.bigint();
    const p = this.pending;
    if (p === null) {
      // Bytes nobody asked for: the socket can no longer be trusted to frame the next response.
      this.socket.destroy();
      return;
    }
    this.gotBytes = true;
    const ex = p.ex;
    try {
      const before = this.bodyLength;
      const used = this.parser.feed(buf.subarray(0, n), this.append);
      if (this.bodyLength > before) {
        ex.pieceEnds.push(this.bodyLength);
        ex.times.push(t);
      }
      if (this.parser.head !== null) ex.status = this.parser.head.status;
      if (this.parser.done) this.complete(used === n && this.parser.keepAlive);
    } catch (err) {
      if (this.parser.head !== null) ex.status = this.parser.head.status;
      this.fail(err instanceof HttpProtocolError ? err.message : String(err));
      this.socket.destroy();
    }
  }

  private onEnd(): void {
    const p = this.pending;
    if (p === null) return;
    try {
      this.parser.end();
      if (this.parser.head !== null) p.ex.status = this.parser.head.status;
      this.complete(false);
    } catch (err) {
      if (this.retryable()) return;
      this.fail(err instanceof HttpProtocolError ? err.message : String(err));
    }
    this.socket.destroy();
  }

  private onClose(message: string | null): void {
    if (this.closed && message === null) return;
    this.closed = true;
    this.pool.forget(this);
    if (this.pending === null) return;
    if (this.retryable()) return;
    let reason = message ?? 'the connection closed';
    if (this.parser.head !== null && !this.parser.done) reason = `the connection broke before the response ended (${reason}; HTTP ${this.parser.head.status}, ${this.parser.bodyBytes} body bytes received)`;
    this.fail(reason);
  }

  /** A request written to an idle keep-alive socket the server had just closed: send it again once. */
  private retryable(): boolean {
    const p = this.pending;
    if (p === null || this.gotBytes || this.served === 0 || p.retried || p.ex.cancelled) return false;
    this.pending = null;
    p.retried = true;
    this.pool.dispatch(p, true);
    return true;
  }

  private complete(reusable: boolean): void {
    const p = this.pending!;
    this.pending = null;
    this.served++;
    p.ex.endNs = process.hrtime.bigint();
    p.ex.body = this.body.subarray(0, this.bodyLength);
    this.pool.settle(p);
    if (reusable && !this.closed) this.pool.release(this);
    else this.socket.destroy();
  }

  private fail(message: string): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    p.ex.endNs = process.hrtime.bigint();
    p.ex.body = this.body.subarray(0, this.bodyLength);
    p.ex.error = p.ex.cancelled ? 'cancelled' : message;
    this.pool.settle(p);
  }

  /** The caller's signal fired while this socket carried its request. */
  abort(p: Pending): void {
    if (this.pending !== p) return;
    this.fail('cancelled');
    this.socket.destroy();
  }

  owns(p: Pending): boolean {
    return this.pending === p;
  }
}

/** Keep-alive sockets to one endpoint and path; idle sockets are reused most-recent first. */
export class ExchangePool {
  readonly hostname: string;
  readonly port: number;
  /** One read buffer for all sockets: reads are handled one at a time and copied out at once. */
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly headPrefix: string;
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private closed = false;

  constructor(url: string, path: string) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`the load generator speaks plain HTTP to the router (through the SSH forward), not ${u.protocol} (${url})`);
    this.hostname = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    const base = u.pathname.replace(/\/+$/, '');
    this.headPrefix = `POST ${base}${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nx-request-id: `;
  }

  post(body: Buffer, requestId: string, signal?: AbortSignal): Promise<RawExchange> {
    if (!SAFE_HEADER_VALUE.test(requestId)) throw new Error(`request id ${JSON.stringify(requestId)} cannot be sent as a header value`);
    return new Promise((resolve) => {
      const ex: RawExchange = { status: 0, sendNs: 0n, body: EMPTY, pieceEnds: [], times: [], endNs: 0n, error: null, cancelled: false };
      if (signal?.aborted || this.closed) {
        ex.cancelled = true;
        ex.sendNs = ex.endNs = process.hrtime.bigint();
        ex.error = 'cancelled';
        resolve(ex);
        return;
      }
      const head = `${this.headPrefix}${requestId}\r\ncontent-length: ${body.length}\r\n\r\n`;
      const request = Buffer.allocUnsafe(head.length + body.length);
      request.write(head, 0, 'latin1');
      body.copy(request, head.length);
      const p: Pending = {
        ex,
        request,
        signal,
        resolve,
        retried: false,
        onAbort: () => {
          ex.cancelled = true;
          for (const c of this.busy) if (c.owns(p)) c.abort(p);
        },
      };
      signal?.addEventListener('abort', p.onAbort, { once: true });
      this.dispatch(p, false);
    });
  }

  /** @internal */
  dispatch(p: Pending, fresh: boolean): void {
    const c = (!fresh && this.idle.pop()) || new Connection(this);
    this.busy.add(c);
    c.send(p);
  }

  /** @internal */
  settle(p: Pending): void {
    p.signal?.removeEventListener('abort', p.onAbort);
    p.resolve(p.ex);
  }

  /** @internal */
  release(c: Connection): void {
    this.busy.delete(c);
    if (this.closed) c.socket.destroy();
    else this.idle.push(c);
  }

  /** @internal */
  forget(c: Connection): void {
    this.busy.delete(c);
    const i = this.idle.indexOf(c);
    if (i !== -1) this.idle.splice(i, 1);
  }

  /** Closes idle sockets now and busy ones as their responses end. */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }

  /** Sockets currently open (idle or carrying a request). */
  get openSockets(): number {
    return this.idle.length + this.busy.size;
  }
}
