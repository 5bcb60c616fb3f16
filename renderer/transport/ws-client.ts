import type { ApiEvent, ApiEventName, ApiMethodName, ApiParams, ApiResult, HandoffApi } from '../../common/api-contract';
import { UserFacingError } from '../../common/errors';
import { EventHub, unwrapReply } from './api-replies';
import type { ConnectionAware, ConnectionStatus } from './connection-status';

/** The subset of the browser WebSocket that the client uses (so tests can pass the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface WsClientOptions {
  url: string;
  createSocket?: WebSocketFactory;
  /** Waits between reconnect attempts; the last one repeats. */
  reconnectDelaysMs?: readonly number[];
  onInvalidMessage?: (message: string) => void;
}

interface PendingCall {
  method: ApiMethodName;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const OPEN = 1;

export type WsApiClient = HandoffApi & ConnectionAware & { close(): void };

/**
 * HandoffApi over the `handoff serve` WebSocket. Calls made while (re)connecting wait for the
 * socket; calls in flight when it drops fail with a message saying what to do. It reconnects with
 * backoff, and listeners of `onConnection` resync state once it is open again.
 */
export function createWsClient(opts: WsClientOptions): WsApiClient {
  const delays = opts.reconnectDelaysMs ?? [500, 1000, 2000, 5000, 10000];
  const createSocket: WebSocketFactory = opts.createSocket ?? ((url: string) => new WebSocket(url));
  const hub = new EventHub(opts.onInvalidMessage);
  const pending = new Map<number, PendingCall>();
  const queued: Array<{ id: number; text: string }> = [];
  const statusListeners = new Set<(s: ConnectionStatus) => void>();
  let nextId = 1;
  let status: ConnectionStatus = { state: 'connecting' };
  let socket: WebSocketLike | null = null;
  let attempt = 0;
  let everOpened = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const setStatus = (s: ConnectionStatus): void => {
    status = s;
    for (const l of statusListeners) l(s);
  };

  const failAll = (err: UserFacingError): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    queued.length = 0;
  };

  const onMessage = (ev: { data: unknown }): void => {
    if (typeof ev.data !== 'string') {
      opts.onInvalidMessage?.('Ignored a binary message from the server');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      opts.onInvalidMessage?.('Ignored a message that is not JSON');
      return;
    }
    if (typeof msg === 'object' && msg !== null && 'event' in msg) {
      hub.deliver(msg);
      return;
    }
    const id = typeof msg === 'object' && msg !== null && 'id' in msg ? (msg as { id: unknown }).id : undefined;
    const call = typeof id === 'number' ? pending.get(id) : undefined;
    if (!call || typeof id !== 'number') {
      opts.onInvalidMessage?.(`Ignored a reply nobody waits for: ${ev.data.slice(0, 300)}`);
      return;
    }
    pending.delete(id);
    try {
      call.resolve(unwrapReply(call.method, msg));
    } catch (err) {
      call.reject(err);
    }
  };

  const connect = (): void => {
    if (closed) return;
    setStatus({ state: 'connecting' });
    const ws = createSocket(opts.url);
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      attempt = 0;
      everOpened = true;
      for (const q of queued.splice(0)) ws.send(q.text);
      setStatus({ state: 'open' });
    });
    ws.addEventListener('message', onMessage);
    ws.addEventListener('error', () => {
      // Browsers give no detail here; 'close' follows and handles it.
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      const message = everOpened
        ? 'Lost the connection to the Handoff server. Reconnecting; if this lasts, check that "handoff serve" is still running.'
        : 'Cannot reach the Handoff server. Check that "handoff serve" is running and that you opened the full URL it printed (with ?token=…).';
      failAll(new UserFacingError('connection-lost', message));
      if (closed) return;
      const retryInMs = delays[Math.min(attempt, delays.length - 1)] ?? 5000;
      attempt += 1;
      setStatus({ state: 'lost', message, retryInMs });
      timer = setTimeout(connect, retryInMs);
    });
  };

  connect();

  return {
    get connection() {
      return status;
    },
    onConnection(listener) {
      statusListeners.add(listener);
      return () => {
        statusListeners.delete(listener);
      };
    },
    call<M extends ApiMethodName>(method: M, params?: ApiParams<M>): Promise<ApiResult<M>> {
      if (closed) return Promise.reject(new UserFacingError('connection-closed', 'The connection to Handoff was closed; reload the page.'));
      const id = nextId++;
      const text = JSON.stringify(params === undefined ? { id, method } : { id, method, params });
      return new Promise<ApiResult<M>>((resolve, reject) => {
        pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
        if (socket && socket.readyState === OPEN) socket.send(text);
        else queued.push({ id, text });
      });
    },
    on<E extends ApiEventName>(event: E, listener: (data: ApiEvent<E>) => void): () => void {
      return hub.on(event, listener);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      failAll(new UserFacingError('connection-closed', 'The connection to Handoff was closed; reload the page.'));
      socket?.close();
      socket = null;
    },
  };
}
