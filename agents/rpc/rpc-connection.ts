import type { Duplex } from 'node:stream';
import { describeZodError, toErrorPayload, UserFacingError, type ErrorPayload } from '../../common/errors';
import { encodeRpc, LineSplitter, parseRpcLine, RpcErrorCode, type RpcId, type RpcNotification, type RpcRequest, type RpcResponse } from '../../common/jsonrpc';
import { errorFields, type AgentLogger } from './agent-logger';
import type { MethodRegistry, RpcContext } from './method-registry';

/**
 * One client of the agent, server side: NDJSON in, JSON-RPC replies and notifications out. Every
 * line is validated; anything wrong becomes an error reply and the connection keeps serving. Only
 * agent.hello (and methods registered with beforeHello) may run before a successful handshake.
 */

export interface ConnectionOptions {
  /** Longest accepted line in characters; longer lines get an error reply and are dropped. */
  maxLineBytes?: number;
  /** A client that stops reading while this much output is queued is disconnected, so it cannot grow the daemon without bound. */
  maxBufferedBytes?: number;
  /** After the client half-closes, replies still in flight get this long before the connection closes. */
  drainGraceMs?: number;
}

export interface ConnectionHost {
  registry: MethodRegistry;
  log: AgentLogger;
  broadcast(method: string, params?: unknown): void;
}

export const HELLO_METHOD = 'agent.hello';

export class RpcServerConnection {
  private static nextId = 1;
  readonly id = RpcServerConnection.nextId++;
  readonly connectedAt = new Date();
  private helloDone = false;
  private clientVersion: string | null = null;
  private readonly abort = new AbortController();
  private readonly log: AgentLogger;
  private readonly splitter: LineSplitter;
  private inflight = 0;
  private helloInFlight: Promise<void> | null = null;
  private closed = false;
  private ending = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly maxBufferedBytes: number;
  private readonly drainGraceMs: number;

  constructor(
    private readonly stream: Duplex,
    private readonly host: ConnectionHost,
    options: ConnectionOptions = {},
  ) {
    const maxLine = options.maxLineBytes ?? 4 * 1024 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.drainGraceMs = options.drainGraceMs ?? 5_000;
    this.log = host.log.child({ client: this.id });
    this.splitter = new LineSplitter(
      (line) => this.onLine(line),
      maxLine,
      () => {
        this.log.warn('dropped an oversize line', { maxLineBytes: maxLine });
        this.sendError(null, RpcErrorCode.invalidRequest, {
          code: 'line-too-long',
          message: `A message longer than ${maxLine} characters was dropped. Send smaller messages (one JSON object per line).`,
        });
      },
    );
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.splitter.push(chunk));
    stream.on('end', () => this.onPeerEnd());
    stream.on('error', (err) => this.log.debug('client stream error', errorFields(err)));
    stream.on('close', () => this.onClosed());
  }

  get handshakeDone(): boolean {
    return this.helloDone;
  }

  get version(): string | null {
    return this.clientVersion;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  notify(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Ends the connection after flushing what is queued. */
  close(): void {
    if (this.closed) return;
    this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }

  private context(): RpcContext {
    return {
      clientId: this.id,
      clientVersion: this.clientVersion,
      notify: (m, p) => this.notify(m, p),
      broadcast: (m, p) => this.host.broadcast(m, p),
      signal: this.abort.signal,
      log: this.log,
    };
  }

  private onLine(line: string): void {
    const m = parseRpcLine(line);
    switch (m.kind) {
      case 'request': {
        const req = m.msg;
        // A client may pipeline calls right behind agent.hello: they wait for the handshake to finish instead of being refused.
        if (this.helloInFlight) {
          void this.helloInFlight.then(() => this.handleRequest(req));
          return;
        }
        const done = this.handleRequest(req);
        if (req.method === HELLO_METHOD && !this.helloDone) {
          const gate: Promise<void> = done.then(() => {
            if (this.helloInFlight === gate) this.helloInFlight = null;
          });
          this.helloInFlight = gate;
        }
        return;
      }
      case 'notification':
        this.handleNotification(m.msg);
        return;
      case 'response':
        // The agent never sends requests, so a response from a client answers nothing.
        this.log.warn('ignored a response from a client', { id: m.msg.id });
        return;
      case 'invalid':
        this.log.debug('malformed line', { error: m.error.message, preview: line.slice(0, 200) });
        this.sendError(m.id, m.error.code, {
          code: m.error.code === RpcErrorCode.parseError ? 'parse-error' : 'invalid-request',
          message: `${m.error.message}. Each line must be one JSON-RPC 2.0 object such as {"jsonrpc":"2.0","id":1,"method":"agent.ping"}.`,
        });
        return;
    }
  }

  private async handleRequest(req: RpcRequest): Promise<void> {
    const entry = this.host.registry.get(req.method);
    if (!entry) {
      this.sendError(req.id, RpcErrorCode.methodNotFound, {
        code: 'unknown-method',
        message: `The agent has no method "${req.method}". If the app is newer than the agent, run "handoff hosts check" to update the agent.`,
      });
      return;
    }
    if (!this.helloDone && !entry.beforeHello) {
      this.sendError(req.id, RpcErrorCode.applicationError, {
        code: 'hello-required',
        message: `Call agent.hello before ${req.method}: every connection starts with the version handshake.`,
      });
      return;
    }
    const params = entry.spec.params.safeParse(req.params);
    if (!params.success) {
      this.sendError(req.id, RpcErrorCode.invalidParams, { code: 'invalid-params', message: describeZodError(`params of ${req.method}`, params.error) });
      return;
    }
    this.inflight++;
    const started = performance.now();
    try {
      const result = await entry.handler(params.data, this.context());
      const checked = entry.spec.result.safeParse(result);
      if (!checked.success) {
        this.log.error('handler returned a result that does not match its schema', { method: req.method, problem: describeZodError('result', checked.error) });
        this.sendError(req.id, RpcErrorCode.internalError, {
          code: 'internal',
          message: `The agent produced an invalid ${req.method} result (${describeZodError('result', checked.error)}). This is a bug in the agent; its log is ~/.handoff/agent.log.`,
        });
        return;
      }
      if (req.method === HELLO_METHOD) {
        this.helloDone = true;
        const p = params.data as { clientVersion?: unknown };
        this.clientVersion = typeof p.clientVersion === 'string' ? p.clientVersion : null;
        this.log.info('handshake done', { clientVersion: this.clientVersion });
      }
      this.send({ jsonrpc: '2.0', id: req.id, result: result === undefined ? null : result });
      this.log.debug('call done', { method: req.method, ms: Math.round(performance.now() - started) });
    } catch (err) {
      if (err instanceof UserFacingError) {
        this.sendError(req.id, RpcErrorCode.applicationError, err.toPayload());
      } else {
        this.log.error('handler failed', { method: req.method, ...errorFields(err) });
        this.sendError(req.id, RpcErrorCode.internalError, toErrorPayload(err));
      }
    } finally {
      this.inflight--;
      if (this.ending && this.inflight === 0) this.close();
    }
  }

  private handleNotification(note: RpcNotification): void {
    const entry = this.host.registry.getNotification(note.method);
    if (!entry) {
      this.log.debug('ignored an unknown notification', { method: note.method });
      return;
    }
    const params = entry.schema.safeParse(note.params);
    if (!params.success) {
      this.log.warn('ignored a notification with invalid params', { method: note.method, problem: describeZodError('params', params.error) });
      return;
    }
    try {
      entry.handler(params.data, this.context());
    } catch (err) {
      this.log.error('notification handler failed', { method: note.method, ...errorFields(err) });
    }
  }

  private sendError(id: RpcId | null, code: number, data: ErrorPayload): void {
    this.send({ jsonrpc: '2.0', id, error: { code, message: data.message, data } });
  }

  private send(msg: RpcRequest | RpcNotification | RpcResponse): void {
    if (this.closed || !this.stream.writable) return;
    let line: string;
    try {
      line = encodeRpc(msg);
    } catch (err) {
      this.log.error('could not encode a message', errorFields(err));
      if ('id' in msg && msg.id !== undefined && !('error' in msg)) {
        this.sendError(msg.id, RpcErrorCode.internalError, { code: 'internal', message: 'The agent could not encode its reply as JSON. This is a bug in the agent.' });
      }
      return;
    }
    this.stream.write(line);
    if (this.stream.writableLength > this.maxBufferedBytes) {
      this.log.warn('client is not reading its messages; disconnecting it', { queuedBytes: this.stream.writableLength });
      this.stream.destroy();
    }
  }

  /** The client will send nothing more (attach saw EOF on stdin): finish replies in flight, then close. */
  private onPeerEnd(): void {
    this.ending = true;
    this.abort.abort();
    if (this.inflight === 0) {
      this.close();
      return;
    }
    setTimeout(() => this.destroy(), this.drainGraceMs).unref();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const l of this.closeListeners) l();
  }
}
