import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UserFacingError } from '../../common/errors';
import { RpcClient } from '../../common/rpc-client';
import { AgentDaemon, type DaemonApi } from '../daemon/agent-daemon';
import { registerCoreHandlers } from '../daemon/core-handlers';
import { createLogger } from './agent-logger';

/** The daemon in-process with test methods plugged into its registry, reached over its real unix socket. */
let home: string;
let daemon: AgentDaemon;
let logLines: string[];
const clients: RpcClient[] = [];
let seenSignal: AbortSignal | null = null;

function testPlugin(api: DaemonApi): void {
  const r = api.registry;
  r.register('test.echo', { params: z.object({ text: z.string() }), result: z.object({ text: z.string() }) }, (p) => ({ text: p.text }));
  r.register('test.userError', { params: z.object({}).optional(), result: z.null() }, () => {
    throw new UserFacingError('gpu-busy', 'GPU 1 is in use by another deployment. Stop it first.');
  });
  r.register('test.crash', { params: z.object({}).optional(), result: z.null() }, () => {
    throw new TypeError('cannot read properties of undefined');
  });
  r.register('test.badResult', { params: z.object({}).optional(), result: z.object({ n: z.number() }) }, () => ({ n: 'not a number' }) as unknown as { n: number });
  r.register('test.notifyMe', { params: z.object({ count: z.number().int() }), result: z.object({ sent: z.number() }) }, (p, ctx) => {
    for (let i = 0; i < p.count; i++) ctx.notify('test.tick', { i });
    ctx.broadcast('test.hello-all', { from: ctx.clientId });
    return { sent: p.count };
  });
  r.register('test.waitForDisconnect', { params: z.object({}).optional(), result: z.null() }, (_p, ctx) => {
    seenSignal = ctx.signal;
    return new Promise<null>(() => undefined);
  });
  r.onNotification('test.cancel', z.object({ id: z.number() }), (p, ctx) => ctx.notify('test.cancelled', p));
}

async function connect(): Promise<RpcClient> {
  const sock = net.connect(daemon.layout.socket);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const c = RpcClient.fromStream(sock, { defaultTimeoutMs: 10_000 });
  clients.push(c);
  return c;
}

async function hello(): Promise<RpcClient> {
  const c = await connect();
  await c.hello('test');
  return c;
}

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-conn-'));
  logLines = [];
  daemon = await AgentDaemon.start({
    home,
    version: '0.0.0-test',
    log: createLogger((l) => logLines.push(l), 'debug'),
    plugins: [(api) => registerCoreHandlers(api, '0.0.0-test'), testPlugin],
    connection: { maxLineBytes: 1024 },
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await daemon.shutdown('test over');
  await fs.rm(home, { recursive: true, force: true });
});

describe('agent RPC connection', () => {
  it('serves calls pipelined right behind agent.hello instead of refusing them', async () => {
    const c = await connect();
    const [h, e] = await Promise.all([c.hello('test'), c.request('test.echo', { text: 'hi' })]);
    expect(h.agentVersion).toBe('0.0.0-test');
    expect(e).toEqual({ text: 'hi' });
  });

  it('passes a UserFacingError from a handler to the client with its code and message', async () => {
    const c = await hello();
    await expect(c.request('test.userError')).rejects.toMatchObject({ code: 'gpu-busy', message: 'GPU 1 is in use by another deployment. Stop it first.', rpcCode: -32000 });
  });

  it('turns an unexpected exception into an internal error, logs it, and keeps serving', async () => {
    const c = await hello();
    await expect(c.request('test.crash')).rejects.toMatchObject({ code: 'internal', rpcCode: -32603 });
    expect(logLines.join('')).toContain('cannot read properties of undefined');
    expect(await c.request('test.echo', { text: 'still here' })).toEqual({ text: 'still here' });
  });

  it('refuses to send a result that does not match the method schema', async () => {
    const c = await hello();
    await expect(c.request('test.badResult')).rejects.toMatchObject({ code: 'internal', rpcCode: -32603 });
  });

  it('rejects invalid params with the schema problem before the handler runs', async () => {
    const c = await hello();
    const err = (await c.request('test.echo', { text: 5 }).catch((e: unknown) => e)) as UserFacingError;
    expect(err).toMatchObject({ code: 'invalid-params', rpcCode: -32602 });
    expect(err.message).toContain('text');
  });

  it('sends notifications to the calling client and broadcasts to every client that said hello', async () => {
    const a = await hello();
    const b = await hello();
    const silent = await connect();
    const ticks: unknown[] = [];
    const seenByB: unknown[] = [];
    const seenBySilent: unknown[] = [];
    a.onNotification('test.tick', (p) => ticks.push(p));
    b.onNotification('test.hello-all', (p) => seenByB.push(p));
    silent.onNotification('*', (p) => seenBySilent.push(p));
    expect(await a.request('test.notifyMe', { count: 3 })).toEqual({ sent: 3 });
    await b.call('agent.ping', {});
    expect(ticks).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(seenByB).toHaveLength(1);
    expect(seenBySilent).toEqual([]);
  });

  it('routes client notifications to registered handlers and ignores unknown ones', async () => {
    const c = await hello();
    const got = new Promise((r) => c.onNotification('test.cancelled', r));
    c.notify('no.such.notification', {});
    c.notify('test.cancel', { id: 'bad' });
    c.notify('test.cancel', { id: 7 });
    expect(await got).toEqual({ id: 7 });
  });

  it('answers an oversize line with an error and serves the next line', async () => {
    const sock = net.connect(daemon.layout.socket);
    await new Promise<void>((r) => sock.once('connect', r));
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (out += d));
    sock.write('{"jsonrpc":"2.0","id":1,"method":"agent.hello","params":{"protocol":1,"clientVersion":"' + 'x'.repeat(5000) + '"}}\n');
    sock.write('{"jsonrpc":"2.0","id":2,"method":"agent.hello","params":{"protocol":1,"clientVersion":"t"}}\n');
    await expect.poll(() => out.split('\n').filter(Boolean).length).toBe(2);
    const [first, second] = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: unknown; error?: { data?: { code?: string } }; result?: unknown });
    expect(first).toMatchObject({ id: null, error: { data: { code: 'line-too-long' } } });
    expect(second).toMatchObject({ id: 2, result: { protocol: 1 } });
    sock.destroy();
  });

  it('aborts the context signal of a call in flight when its client disconnects', async () => {
    const c = await hello();
    void c.request('test.waitForDisconnect').catch(() => undefined);
    await expect.poll(() => seenSignal !== null).toBe(true);
    expect(seenSignal!.aborted).toBe(false);
    c.close();
    await expect.poll(() => seenSignal!.aborted).toBe(true);
  });

  it('counts attached clients in agent.stats', async () => {
    const a = await hello();
    await hello();
    const s = await a.call('agent.stats', {});
    expect(s.clients).toBe(2);
    expect(s.rssBytes).toBeGreaterThan(1e6);
  });
});
