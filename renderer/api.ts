import type { HandoffApi, HandoffBridge } from '../common/api-contract';
import { createBridgeClient } from './transport/bridge-client';
import type { ConnectionAware } from './transport/connection-status';
import { createWsClient } from './transport/ws-client';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in browser mode. */
    handoff?: HandoffBridge;
  }
}

export type RendererApi = HandoffApi & ConnectionAware;

const TOKEN_KEY = 'handoff.token';

/**
 * The token `handoff serve` printed in the page URL. Kept in sessionStorage so it survives
 * in-page navigation, and never sent anywhere but our own WebSocket.
 */
export function readServeToken(search: string, storage: Pick<Storage, 'getItem' | 'setItem'>): string | null {
  const fromUrl = new URLSearchParams(search).get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

/** The one API the renderer uses: the preload bridge in Electron, else the WebSocket of `handoff serve`. */
export function createApi(): RendererApi | { error: string } {
  if (window.handoff) return createBridgeClient(window.handoff);
  const token = readServeToken(window.location.search, window.sessionStorage);
  if (!token) {
    return { error: 'This page needs the access token printed by "handoff serve". Open the full URL it printed (ending in ?token=…).' };
  }
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return createWsClient({
    url: `${scheme}://${window.location.host}/api?token=${encodeURIComponent(token)}`,
    onInvalidMessage: (m) => console.warn(m),
  });
}
