import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserFacingError } from '../../common/errors';
import type { ApiHandler } from '../control/api-handler';
import { rendererCsp } from '../control/transport/content-security-policy';
import { attachWsApi, createAccessToken, tokensMatch, WS_API_PATH } from '../control/transport/ws-server';
import { contentTypeFor, resolveStaticFile } from '../control/transport/static-files';

export interface ServeHandle {
  /** The page to open, token included. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeApiOptions {
  port?: number;
  /** Built renderer (index.html + assets); defaults to dist/renderer of this checkout. */
  staticDir?: string;
}

export function defaultRendererDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/renderer');
}

const BIND_HOST = '127.0.0.1';

/**
 * Serves the built renderer and `handler` over a WebSocket on 127.0.0.1. The token is required on
 * the page URL and on the WebSocket upgrade; static assets are build outputs with no secrets, so
 * they are served without it. Host headers are checked so a DNS-rebound name cannot reach the page.
 */
export async function serveApi(handler: ApiHandler, opts: ServeApiOptions = {}): Promise<ServeHandle> {
  const root = path.resolve(opts.staticDir ?? defaultRendererDir());
  const indexFile = path.join(root, 'index.html');
  try {
    await fs.access(indexFile);
  } catch {
    throw new UserFacingError(
      'renderer-not-built',
      `The browser UI is not built (no ${indexFile}). Run "npm run build -- --renderer-only" (or "npm run serve", which builds it) and try again.`,
    );
  }
  const token = createAccessToken();
  let port = 0;
  const allowedHosts = (): string[] => [`${BIND_HOST}:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((h) => `http://${h}`);

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal error while serving the UI; restart "handoff serve".\n');
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const plain = (status: number, message: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`${message}\n`);
    };
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      plain(403, `Unexpected Host header; open the UI at http://${BIND_HOST}:${port}/ as printed by "handoff serve".`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      plain(405, 'Only GET and HEAD are served here; the API is on the WebSocket.');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${BIND_HOST}:${port}`);
    if (url.pathname === WS_API_PATH) {
      plain(426, 'The API needs a WebSocket connection.');
      return;
    }
    const isPage = url.pathname === '/' || url.pathname === '/index.html';
    if (isPage && !tokensMatch(url.searchParams.get('token'), token)) {
      plain(401, 'Missing or wrong token. Open the URL printed by "handoff serve", including its ?token=… part.');
      return;
    }
    const file = isPage ? indexFile : await resolveStaticFile(root, url.pathname);
    if (file === null) {
      plain(404, `Not found: ${url.pathname}`);
      return;
    }
    const body = await fs.readFile(file);
    res.writeHead(200, {
      'Content-Type': contentTypeFor(file),
      'Content-Length': body.length,
      'Cache-Control': isPage ? 'no-store' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      ...(isPage
        ? {
            'Content-Security-Policy': rendererCsp({ connectSrc: ["'self'", ...allowedHosts().map((h) => `ws://${h}`)] }),
            'X-Frame-Options': 'DENY',
          }
        : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  // runs.import carries dropped result files in one message (renderer/pages/benchmarks/dropped-files.ts
  // allows 64 MB of text, which JSON escaping grows by up to a third).
  const ws = attachWsApi(server, { handler, token, allowedOrigins, maxPayloadBytes: 96 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new UserFacingError('port-in-use', `Port ${opts.port} on ${BIND_HOST} is already in use. Pick another with --port, or omit it to use a free one.`)
          : err,
      );
    });
    server.listen(opts.port ?? 0, BIND_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${BIND_HOST}:${port}/?token=${token}`,
    token,
    port,
    close: () => {
      closing ??= (async () => {
        await ws.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
