import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiReply, type ApiEventEnvelope } from '../../../common/api-contract';
import { UserFacingError } from '../../../common/errors';
import type { ApiHandler } from '../api-handler';
import { attachWsApi, tokensMatch, type WsApi } from './ws-server';

/** A stand-in controller: enough to exercise the transport, nothing product-facing. */
function testHandler(): ApiHandler & { emit(e: ApiEventEnvelope): void; listenerCount(): number } {
  const listeners = new Set<(e: ApiEventEnvelope) => void>();
  return {
    async handle(method, params) {
      if (method === 'app.info') return { version: 'test', mode: 'browser', home: '/tmp/x' };
      if (method === 'hosts.remove') throw new UserFacingError('host-not-found', `No host named ${JSON.stringify(params)}; run "handoff hosts list".`);
      if (method === 'hosts.list') throw new Error('boom');
      return null;
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit(e) {
      for (const l of listeners) l(e);
    },
    listenerCount: () => listeners.size,
  };
}

const TOKEN = 'secret-token-for-tests';
let server: http.Server;
let api: WsApi;
let handler: ReturnType<typeof testHandler>;
let port: number;
const clients: WebSocket[] = [];

beforeEach(async () => {
  handler = testHandler();
  server = http.createServer((_req, res) => res.end());
  api = attachWsApi(server, {
    handler,
    token: TOKEN,
    allowedOrigins: () => [`http://127.0.0.1:${port}`],
    maxPayloadBytes: 64 * 1024,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await api.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function connect(query = `?token=${TOKEN}`, headers: Record<string, string> = {}): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api${query}`, { headers });
  clients.push(ws);
  return ws;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

/** Resolves with the HTTP status of a refused upgrade. */
function refusal(ws: WebSocket): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => {});
  });
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) => ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as unknown)));
}

async function roundTrip(ws: WebSocket, payload: string | Buffer): Promise<ApiReply> {
  const reply = nextMessage(ws);
  ws.send(payload);
  return ApiReply.parse(await reply);
}

describe('WebSocket API token and origin checks', () => {
  it('accepts an upgrade with the right token and answers calls', async () => {
    const ws = connect();
    await opened(ws);
    const reply = await roundTrip(ws, JSON.stringify({ id: 1, method: 'app.info' }));
    expect(reply).toEqual({ id: 1, ok: true, result: { version: 'test', mode: 'browser', home: '/tmp/x' } });
  });

  it('refuses an upgrade without a token with 401 and an explanation', async () => {
    const r = await refusal(connect(''));
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/token/i);
  });

  it('refuses an upgrade with a wrong token, even one sharing a prefix', async () => {
    expect((await refusal(connect('?token=wrong'))).status).toBe(401);
    expect((await refusal(connect(`?token=${TOKEN}x`))).status).toBe(401);
    expect((await refusal(connect(`?token=${TOKEN.slice(0, -1)}`))).status).toBe(401);
  });

  it('refuses a cross-origin upgrade even with the right token', async () => {
    const r = await refusal(connect(`?token=${TOKEN}`, { Origin: 'http://evil.example' }));
    expect(r.status).toBe(403);
    expect(r.body).toContain('http://evil.example');
  });

  it('accepts an upgrade from the page origin', async () => {
    const ws = connect(`?token=${TOKEN}`, { Origin: `http://127.0.0.1:${port}` });
    await opened(ws);
    expect(api.clientCount).toBe(1);
  });

  it('refuses upgrades on other paths', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/other?token=${TOKEN}`);
    clients.push(ws);
    expect((await refusal(ws)).status).toBe(404);
  });

  it('compares tokens exactly', () => {
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abd', 'abc')).toBe(false);
    expect(tokensMatch('', 'abc')).toBe(false);
    expect(tokensMatch(null, 'abc')).toBe(false);
  });
});

describe('WebSocket API message handling', () => {
  it('answers invalid JSON with a bad-message error and keeps the connection usable', async () => {
    const ws = connect();
    await opened(ws);
    const bad = await roundTrip(ws, '{"id": 1, "method": ');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.id).toBe(0);
      expect(bad.error.code).toBe('bad-message');
      expect(bad.error.message).toMatch(/not valid JSON/);
    }
    const good = await roundTrip(ws, JSON.stringify({ id: 2, method: 'app.info' }));
    expect(good.ok).toBe(true);
  });

  it('answers an envelope without a method with its own id and the faulty field', async () => {
    const ws = connect();
    await opened(ws);
    const reply = await roundTrip(ws, JSON.stringify({ id: 7, params: {} }));
    expect(reply).toMatchObject({ id: 7, ok: false, error: { code: 'bad-message' } });
    if (!reply.ok) expect(reply.error.message).toMatch(/method/);
  });

  it('answers non-object messages and binary frames with bad-message', async () => {
    const ws = connect();
    await opened(ws);
    expect(await roundTrip(ws, '42')).toMatchObject({ id: 0, ok: false, error: { code: 'bad-message' } });
    expect(await roundTrip(ws, '[1,2]')).toMatchObject({ id: 0, ok: false, error: { code: 'bad-message' } });
    expect(await roundTrip(ws, Buffer.from([1, 2, 3]))).toMatchObject({ id: 0, ok: false, error: { code: 'bad-message' } });
  });

  it('answers an unknown method with unknown-method', async () => {
    const ws = connect();
    await opened(ws);
    const reply = await roundTrip(ws, JSON.stringify({ id: 3, method: 'fs.readAll' }));
    expect(reply).toMatchObject({ id: 3, ok: false, error: { code: 'unknown-method' } });
  });

  it('carries a UserFacingError code and message, and unexpected errors as internal', async () => {
    const ws = connect();
    await opened(ws);
    const userErr = await roundTrip(ws, JSON.stringify({ id: 4, method: 'hosts.remove', params: { name: 'x' } }));
    expect(userErr).toMatchObject({ id: 4, ok: false, error: { code: 'host-not-found' } });
    const internal = await roundTrip(ws, JSON.stringify({ id: 5, method: 'hosts.list' }));
    expect(internal).toMatchObject({ id: 5, ok: false, error: { code: 'internal', message: 'boom' } });
  });

  it('closes a connection that sends an oversized frame without affecting other clients', async () => {
    const big = connect();
    const other = connect();
    await Promise.all([opened(big), opened(other)]);
    const closed = new Promise<number>((r) => big.once('close', (code: number) => r(code)));
    big.send(JSON.stringify({ id: 1, method: 'app.info', params: { pad: 'x'.repeat(100 * 1024) } }));
    expect(await closed).toBe(1009);
    expect((await roundTrip(other, JSON.stringify({ id: 9, method: 'app.info' }))).ok).toBe(true);
  });

  it('forwards controller events to connected clients and unsubscribes when they leave', async () => {
    const ws = connect();
    await opened(ws);
    expect(handler.listenerCount()).toBe(1);
    const msg = nextMessage(ws);
    handler.emit({ event: 'hosts.changed', data: [] });
    expect(await msg).toEqual({ event: 'hosts.changed', data: [] });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    ws.close();
    await closed;
    await expect.poll(() => handler.listenerCount()).toBe(0);
  });
});
