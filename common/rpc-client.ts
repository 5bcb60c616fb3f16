import type { z } from 'zod';
import { AgentMethods, AgentNotifications, AGENT_PROTOCOL_VERSION, type AgentMethodName, type AgentNotificationName, type AgentParams, type AgentResult } from './agent-rpc';
import { describeZodError, ErrorPayload, UserFacingError } from './errors';
import { encodeRpc, LineSplitter, parseRpcLine, RpcErrorCode, type RpcErrorObject, type RpcId } from './jsonrpc';

/**
 * JSON-RPC 2.0 client over NDJSON, for any byte stream: the SSH exec channel running
 * `handoff-agent attach`, a local child's stdio, or a unix socket. Pure (no Node built-ins) so the
 * controller, the agent and tests share it. It correlates replies with requests, validates results
 * and notifications against common/agent-rpc.ts, times calls out and fails every pending call when
 * the stream closes.
 */

/** The part of a Node Duplex (or ssh2 Channel) the client needs; structural so common/ stays free of Node imports. */
export interface DuplexLike {
  write(chunk: string): unknown;
  end(): unknown;
  on(event: 'data', listener: (chunk: string | Uint8Array) => void): unknown;
  on(event: 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** A child process's stdout, or any readable side. */
export interface ReadableLike {
  on(event: 'data', listener: (chunk: string | Uint8Array) => void): unknown;
  on(event: 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** A child process's stdin, or any writable side. */
export interface WritableLike {
  write(chunk: string): unknown;
  end(): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface RpcClientOptions {
  /** Sends one encoded message (a line ending in \n). */
  write: (line: string) => void;
  /** Closes the underlying stream; called once by close(). */
  end?: () => void;
  /** Per-call default; a call can override it. */
  defaultTimeoutMs?: number;
  maxLineBytes?: number;
  /** Lines from the peer that are not valid JSON-RPC, or replies to unknown ids: reported, never thrown. */
  onProtocolError?: (message: string, line: string) => void;
  /** Peer name used in error messages ("the agent on gpu1"). */
  peerName?: string;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** An error reply from the peer. `code` is the UserFacingError code the peer sent (or `rpc-<number>`). */
export class RpcCallError extends UserFacingError {
  readonly rpcCode: number;
  constructor(method: string, err: RpcErrorObject) {
    const payload = err.data ? ErrorPayload.safeParse(err.data) : null;
    const p = payload?.success ? payload.data : null;
    super(p?.code ?? `rpc-${err.code}`, p?.message ?? `${method} failed: ${err.message}`, p?.details);
    this.name = 'RpcCallError';
    this.rpcCode = err.code;
  }
}

type Pending = { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> | null; cleanup: () => void };
type NotificationHandler = (params: unknown, method: string) => void;

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<RpcId, Pending>();
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly closeHandlers = new Set<(reason: Error) => void>();
  private readonly splitter: LineSplitter;
  private readonly decoder = new TextDecoder('utf-8');
  private closeReason: Error | null = null;
  private readonly peer: string;

  constructor(private readonly opts: RpcClientOptions) {
    this.peer = opts.peerName ?? 'the agent';
    this.splitter = new LineSplitter(
      (line) => this.onLine(line),
      opts.maxLineBytes ?? 64 * 1024 * 1024,
      () => opts.onProtocolError?.(`a line from ${this.peer} exceeded ${opts.maxLineBytes ?? 64 * 1024 * 1024} characters and was dropped`, ''),
    );
  }

  /** Wires a client to a stream: data in, lines out, close/error fail pending calls. */
  static fromStream(stream: DuplexLike, opts: Omit<RpcClientOptions, 'write' | 'end'> = {}): RpcClient {
    const client = new RpcClient({ ...opts, write: (line) => void stream.write(line), end: () => void stream.end() });
    stream.on('data', (chunk) => client.receive(chunk));
    stream.on('end', () => client.handleClose());
    stream.on('close', () => client.handleClose());
    stream.on('error', (err) => client.handleClose(err));
    return client;
  }

  /** Wires a client to a separate input and output, e.g. a local `handoff-agent attach` child's stdout and stdin. */
  static fromStreams(input: ReadableLike, output: WritableLike, opts: Omit<RpcClientOptions, 'write' | 'end'> = {}): RpcClient {
    const client = new RpcClient({ ...opts, write: (line) => void output.write(line), end: () => void output.end() });
    input.on('data', (chunk) => client.receive(chunk));
    input.on('end', () => client.handleClose());
    input.on('close', () => client.handleClose());
    input.on('error', (err) => client.handleClose(err));
    // EPIPE when the peer has gone: the close of its output follows and fails the pending calls.
    output.on('error', (err) => client.handleClose(err));
    return client;
  }

  get closed(): boolean {
    return this.closeReason !== null;
  }

  /** Feeds bytes or text from the peer. Multi-byte characters split across chunks are decoded correctly. */
  receive(chunk: string | Uint8Array): void {
    this.splitter.push(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: every pending call fails with a disconnected error. Idempotent. */
  handleClose(cause?: Error): void {
    if (this.closeReason) return;
    this.closeReason = new UserFacingError(
      'agent-disconnected',
      `The connection to ${this.peer} closed${cause ? ` (${cause.message})` : ''}. Check the host is reachable; Handoff reconnects on the next action.`,
    );
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cleanup();
      p.reject(this.closeReason);
    }
    for (const h of this.closeHandlers) h(this.closeReason);
  }

  onClose(handler: (reason: Error) => void): () => void {
    if (this.closeReason) queueMicrotask(() => handler(this.closeReason!));
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** Closes the stream (the agent side sees EOF) and fails pending calls. */
  close(): void {
    if (this.closeReason) return;
    this.opts.end?.();
    this.handleClose();
  }

  /** Untyped call: resolves with the raw result, rejects with RpcCallError, or a timeout / disconnected UserFacingError. */
  request(method: string, params?: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.closeReason) return Promise.reject(this.closeReason);
    if (options.signal?.aborted) return Promise.reject(new UserFacingError('cancelled', `${method} was cancelled.`));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.opts.defaultTimeoutMs ?? 30_000;
      const onAbort = () => settle(() => reject(new UserFacingError('cancelled', `${method} was cancelled.`)));
      const cleanup = () => {
        if (entry.timer) clearTimeout(entry.timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const settle = (fn: () => void) => {
        if (!this.pending.delete(id)) return;
        cleanup();
        fn();
      };
      const entry: Pending = { method, resolve, reject, timer: null, cleanup };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(
          () =>
            settle(() =>
              reject(new UserFacingError('agent-timeout', `${this.peer} did not answer ${method} within ${Math.round(timeoutMs / 100) / 10} s. The host may be overloaded or the connection stalled; try again, or run "handoff hosts check" to reconnect.`)),
            ),
          timeoutMs,
        );
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, entry);
      try {
        this.opts.write(encodeRpc({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
      } catch (err) {
        settle(() => reject(new UserFacingError('agent-disconnected', `Could not send ${method} to ${this.peer}: ${err instanceof Error ? err.message : String(err)}`)));
      }
    });
  }

  /** Typed call of an agent method: the result is validated against its schema in common/agent-rpc.ts. */
  async call<M extends AgentMethodName>(method: M, params: AgentParams<M>, options?: CallOptions): Promise<AgentResult<M>> {
    const raw = await this.request(method, params, options);
    const schema: z.ZodType<AgentResult<M>> = AgentMethods[method].result as unknown as z.ZodType<AgentResult<M>>;
    const r = schema.safeParse(raw);
    if (!r.success) {
      throw new UserFacingError('agent-bad-reply', `${describeZodError(`reply of ${this.peer} to ${method}`, r.error)}. The app and agent versions may differ; run "handoff hosts check" to update the agent.`);
    }
    return r.data;
  }

  /** The version handshake every attach must start with. */
  hello(clientVersion: string, options?: CallOptions): Promise<AgentResult<'agent.hello'>> {
    return this.call('agent.hello', { protocol: AGENT_PROTOCOL_VERSION, clientVersion }, options);
  }

  /** Fire-and-forget message to the peer. */
  notify(method: string, params?: unknown): void {
    if (this.closeReason) throw this.closeReason;
    this.opts.write(encodeRpc({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }));
  }

  /** Raw notification handler; method '*' receives every notification. Returns an unsubscribe function. */
  onNotification(method: string, handler: NotificationHandler): () => void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Typed notification handler: params are validated against common/agent-rpc.ts; invalid ones go to onProtocolError. */
  onAgentNotification<N extends AgentNotificationName>(method: N, handler: (params: z.infer<(typeof AgentNotifications)[N]>) => void): () => void {
    type P = z.infer<(typeof AgentNotifications)[N]>;
    const schema = AgentNotifications[method] as unknown as z.ZodType<P>;
    return this.onNotification(method, (params) => {
      const r = schema.safeParse(params);
      // With several notifications the indexed schema's output is a union; the method picked the member.
      if (r.success) handler(r.data as z.infer<(typeof AgentNotifications)[N]>);
      else this.opts.onProtocolError?.(describeZodError(`notification ${method} from ${this.peer}`, r.error), JSON.stringify(params) ?? '');
    });
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private onLine(line: string): void {
    const m = parseRpcLine(line);
    switch (m.kind) {
      case 'response': {
        const id = m.msg.id;
        const p = id === null ? undefined : this.pending.get(id);
        if (!p || id === null) {
          // id null: the peer could not parse something we sent, so it cannot say which call failed.
          const why = 'error' in m.msg ? `error without a matching call: ${m.msg.error.message}` : `reply to unknown id ${String(id)}`;
          this.opts.onProtocolError?.(`${this.peer} sent an ${why}`, line);
          return;
        }
        this.pending.delete(id);
        p.cleanup();
        if ('error' in m.msg) p.reject(new RpcCallError(p.method, m.msg.error));
        else p.resolve(m.msg.result);
        return;
      }
      case 'notification': {
        const exact = this.handlers.get(m.msg.method);
        const any = this.handlers.get('*');
        for (const h of [...(exact ?? []), ...(any ?? [])]) {
          try {
            h(m.msg.params, m.msg.method);
          } catch (err) {
            this.opts.onProtocolError?.(`handler for ${m.msg.method} threw: ${err instanceof Error ? err.message : String(err)}`, line);
          }
        }
        return;
      }
      case 'request': {
        // The controller serves no methods; say so rather than leave the peer waiting.
        this.opts.write(
          encodeRpc({ jsonrpc: '2.0', id: m.msg.id, error: { code: RpcErrorCode.methodNotFound, message: `Method not found: ${m.msg.method} (this side serves no methods)` } }),
        );
        return;
      }
      case 'invalid':
        this.opts.onProtocolError?.(`${this.peer} sent a malformed line: ${m.error.message}`, line);
        return;
    }
  }
}
