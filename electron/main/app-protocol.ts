import fs from 'node:fs/promises';
import { rendererCsp } from '../control/transport/content-security-policy';
import { contentTypeFor, resolveStaticFile } from '../control/transport/static-files';
import { APP_HOST, APP_SCHEME } from './ipc-channels';

/** The CSP of the desktop app: the renderer reaches the controller over IPC only, so no network. */
export const DESKTOP_CSP = rendererCsp({ connectSrc: [] });

/**
 * Answers one request for handoff://app/…: a file of the built renderer with the CSP attached,
 * or 404. Other hosts under the scheme, and anything but GET, are refused.
 */
export async function serveAppRequest(rendererDir: string, request: { url: string; method: string }): Promise<Response> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return new Response('Bad URL', { status: 400 });
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return new Response('Not found', { status: 404 });
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response('Method not allowed', { status: 405 });
  const pathname = url.pathname === '/' ? '/index.html' : url.pathname;
  const file = await resolveStaticFile(rendererDir, pathname);
  if (!file) return new Response('Not found', { status: 404 });
  const body = await fs.readFile(file);
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      'Content-Type': contentTypeFor(file),
      'Content-Security-Policy': DESKTOP_CSP,
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
