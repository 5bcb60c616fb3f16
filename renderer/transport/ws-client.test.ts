import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { HostStatus } from '../../common/host';
import type { ConnectionStatus } from './connection-status';
import { createWsClient, type WsApiClient } from './ws-client';

/** A bare WebSocket peer that the test scripts message by message. */
async function startPeer(onMessage: (msg: { id: number; method: string; params?: unknown }, send: (v: unknown) => void) => void) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (sock) => {
    sock.on('message', (d: Buffer) => onMessage(JSON.parse(d.toString()) as { id: number; method: string }, (v) => sock.send(typeof v === 'string' ? v : JSON.stringify(v))));
  });
  const port = (wss.address() as { port: number }).port;
  return { wss, port, url: `ws://127.0.0.1:${port}/api?token=t` };
}

const localHost: HostStatus = {
  config: { kind: 'local', name: 'this-computer', addedAt: '2026-01-01T00:00:00Z' },
  state: 'unknown',
  info: null,
  checkedAt: null,
};

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(url: string, delays = [20]): WsApiClient {
  const c = createWsClient({ url, createSocket: (u) => new WebSocket(u) as never, reconnectDelaysMs: delays, onInvalidMessage: () => {} });
  cleanups.push(() => c.close());
  return c;
}

function closeServer(wss: WebSocketServer): Promise<void> {
  for (const c of wss.clients) c.terminate();
  return new Promise((r) => wss.close(() => r()));
}

describe('WebSocket API client', () => {
  it('queues calls made before the socket opens and resolves them with validated results', async () => {
    const peer = await startPeer((m, send) => send({ id: m.id, ok: true, result: [localHost] }));
    cleanups.push(() => closeServer(peer.wss));
    const api = client(peer.url);
    await expect(api.call('hosts.list')).resolves.toEqual([localHost]);
  });

  it('turns an error reply into a UserFacingError with code and message', async () => {
    const peer = await startPeer((m, send) => send({ id: m.id, ok: false, error: { code: 'host-not-found', message: 'No host x; run hosts list.' } }));
    cleanups.push(() => closeServer(peer.wss));
    const api = client(peer.url);
    await expect(api.call('hosts.remove', { name: 'x' })).rejects.toMatchObject({ code: 'host-not-found', message: 'No host x; run hosts list.' });
  });

  it('rejects a result that does not match the contract instead of passing it on', async () => {
    const peer = await startPeer((m, send) => send({ id: m.id, ok: true, result: [{ nonsense: true }] }));
    cleanups.push(() => closeServer(peer.wss));
    const api = client(peer.url);
    await expect(api.call('hosts.list')).rejects.toMatchObject({ code: 'bad-reply' });
  });

  it('delivers valid events and drops malformed ones without breaking later calls', async () => {
    const peer = await startPeer((m, send) => {
      send('not json');
      send({ event: 'hosts.changed', data: 'not a list' });
      send({ event: 'no.such.event', data: {} });
      send({ event: 'hosts.changed', data: [localHost] });
      send({ id: m.id, ok: true, result: { version: '1', mode: 'browser', home: '/h' } });
    });
    cleanups.push(() => closeServer(peer.wss));
    const api = client(peer.url);
    const seen: HostStatus[][] = [];
    api.on('hosts.changed', (hosts) => seen.push(hosts));
    await expect(api.call('app.info')).resolves.toMatchObject({ version: '1' });
    expect(seen).toEqual([[localHost]]);
  });

  it('fails calls in flight when the connection drops, says what to do, and reconnects', async () => {
    let answer = false;
    const peer = await startPeer((m, send) => {
      if (answer) send({ id: m.id, ok: true, result: [] });
    });
    const api = client(peer.url);
    const states: ConnectionStatus['state'][] = [];
    api.onConnection((s) => states.push(s.state));
    await expect.poll(() => api.connection.state).toBe('open');
    const inFlight = api.call('hosts.list');
    await expect.poll(() => peer.wss.clients.size).toBe(1);
    for (const c of peer.wss.clients) c.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: 'connection-lost', message: expect.stringMatching(/handoff serve/) });
    answer = true;
    await expect.poll(() => states.filter((s) => s === 'open').length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => api.connection.state).toBe('open');
    await expect(api.call('hosts.list')).resolves.toEqual([]);
    expect(states).toContain('lost');
    await closeServer(peer.wss);
  });

  it('reports a server it never reached with a hint about the URL and token', async () => {
    const peer = await startPeer(() => {});
    await closeServer(peer.wss);
    const api = client(peer.url, [60_000]);
    await expect.poll(() => api.connection.state).toBe('lost');
    const s = api.connection;
    expect(s.state === 'lost' && s.message).toMatch(/token/);
  });
});
