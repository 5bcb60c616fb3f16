import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ApiEventEnvelope, ApiReply } from '../../../common/api-contract';
import type { ApiHandler } from '../api-handler';
import { dispatchCall, parseJsonFrame, UNATTRIBUTED_ID } from './dispatch';

export const WS_API_PATH = '/api';

/** A random token for one `handoff serve` run: 256 bits, URL-safe. */
export function createAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison; hashing first makes the lengths equal so length leaks nothing. */
export function tokensMatch(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface WsApiOptions {
  handler: ApiHandler;
  token: string;
  /** Origins a browser page may connect from (e.g. http://127.0.0.1:PORT); others are refused. */
  allowedOrigins: () => readonly string[];
  path?: string;
  maxPayloadBytes?: number;
  /** A client whose unsent backlog grows past this is disconnected; it reconnects and resyncs. */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
}

export interface WsApi {
  readonly clientCount: number;
  close(): Promise<void>;
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * The controller API over a WebSocket, attached to an existing HTTP server (`handoff serve`).
 * Every upgrade must carry the run's token (`?token=`) and, when sent by a browser, an allowed
 * Origin: the server binds 127.0.0.1, but any web page could otherwise reach a loopback port.
 */
export function attachWsApi(server: http.Server, opts: WsApiOptions): WsApi {
  const apiPath = opts.path ?? WS_API_PATH;
  const maxBufferedBytes = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 1024 * 1024 });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== apiPath) {
      refuseUpgrade(socket, 404, 'Not Found', `No WebSocket endpoint at ${url.pathname}; the API is at ${apiPath}.`);
      return;
    }
    if (!tokensMatch(url.searchParams.get('token'), opts.token)) {
      refuseUpgrade(socket, 401, 'Unauthorized', 'Missing or wrong token. Open the URL printed by "handoff serve", including its ?token=… part.');
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !opts.allowedOrigins().includes(origin)) {
      refuseUpgrade(socket, 403, 'Forbidden', `Connections from ${origin} are not allowed; open the UI at the URL printed by "handoff serve".`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));

    const send = (payload: ApiReply | ApiEventEnvelope): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > maxBufferedBytes) {
        // Dropping one event would leave the page silently stale; closing makes it reconnect and resync.
        ws.close(1013, 'client too slow');
        return;
      }
      ws.send(JSON.stringify(payload));
    };

    const unsubscribe = opts.handler.subscribe((envelope) => send(envelope));

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        send({
          id: UNATTRIBUTED_ID,
          ok: false,
          error: { code: 'bad-message', message: 'Binary messages are not part of the API; send JSON text messages.' },
        });
        return;
      }
      const frame = parseJsonFrame(rawToString(data));
      if (!frame.ok) {
        send(frame.reply);
        return;
      }
      void dispatchCall(opts.handler, frame.value).then(send);
    });
    ws.on('error', () => {
      // A peer error (e.g. a frame over maxPayload) closes the socket; 'close' cleans up.
    });
    ws.on('close', () => unsubscribe());
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    get clientCount() {
      return wss.clients.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
