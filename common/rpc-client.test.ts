import { Duplex } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { AGENT_PROTOCOL_VERSION } from './agent-rpc';
import { UserFacingError } from './errors';
import { RpcCallError, RpcClient } from './rpc-client';

/** A client whose sent lines are captured, and a way to answer as the agent would. */
function harness(opts: { defaultTimeoutMs?: number } = {}) {
  const sent: Array<{ id?: number; method?: string; params?: unknown }> = [];
  const protocolErrors: string[] = [];
  const client = new RpcClient({ write: (line) => sent.push(JSON.parse(line)), onProtocolError: (m) => protocolErrors.push(m), ...opts });
  const reply = (obj: object) => client.receive(JSON.stringify({ jsonrpc: '2.0', ...obj }) + '\n');
  return { client, sent, reply, protocolErrors };
}

describe('RpcClient', () => {
  it('matches replies to calls by id, whatever order they arrive in', async () => {
    const { client, sent, reply } = harness();
    const a = client.request('agent.ping');
    const b = client.request('agent.stats');
    reply({ id: sent[1]!.id, result: 'B' });
    reply({ id: sent[0]!.id, result: 'A' });
    expect(await Promise.all([a, b])).toEqual(['A', 'B']);
    expect(client.pendingCount).toBe(0);
  });

  it('sends the handshake with the protocol version and validates the typed result', async () => {
    const { client, sent, reply } = harness();
    const hello = client.hello('1.2.3');
    expect(sent[0]).toMatchObject({ method: 'agent.hello', params: { protocol: AGENT_PROTOCOL_VERSION, clientVersion: '1.2.3' } });
    reply({ id: sent[0]!.id, result: { protocol: 1, agentVersion: '1.2.3', pid: 42, startedAt: 'now', home: '/h' } });
    expect((await hello).pid).toBe(42);

    const stats = client.call('agent.stats', {});
    reply({ id: sent[1]!.id, result: { rssBytes: 'lots' } });
    await expect(stats).rejects.toMatchObject({ code: 'agent-bad-reply' });
  });

  it('turns an error reply into an RpcCallError carrying the agent error code and message', async () => {
    const { client, sent, reply } = harness();
    const p = client.request('agent.ping');
    reply({ id: sent[0]!.id, error: { code: -32000, message: 'x', data: { code: 'hello-required', message: 'Call agent.hello first.' } } });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcCallError);
    expect(err).toMatchObject({ code: 'hello-required', message: 'Call agent.hello first.', rpcCode: -32000 });

    const q = client.request('nope');
    reply({ id: sent[1]!.id, error: { code: -32601, message: 'Method not found' } });
    await expect(q).rejects.toMatchObject({ code: 'rpc--32601', message: 'nope failed: Method not found' });
  });

  it('times a call out with a clear message and forgets it', async () => {
    vi.useFakeTimers();
    try {
      const { client } = harness({ defaultTimeoutMs: 1_000 });
      const p = client.request('host.info');
      const caught = p.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(1_001);
      const err = await caught;
      expect(err).toBeInstanceOf(UserFacingError);
      expect(err).toMatchObject({ code: 'agent-timeout' });
      expect((err as Error).message).toContain('did not answer host.info within 1 s');
      expect(client.pendingCount).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails every pending call when the stream closes, and refuses new ones', async () => {
    const stream = new Duplex({ read() {}, write(_chunk, _enc, cb) { cb(); } });
    const client = RpcClient.fromStream(stream);
    const p = client.request('agent.ping');
    const closed = new Promise<Error>((r) => client.onClose(r));
    stream.destroy();
    await expect(p).rejects.toMatchObject({ code: 'agent-disconnected' });
    expect((await closed).message).toContain('closed');
    await expect(client.request('agent.ping')).rejects.toMatchObject({ code: 'agent-disconnected' });
  });

  it('can be cancelled with an AbortSignal', async () => {
    const { client } = harness();
    const ac = new AbortController();
    const p = client.request('host.info', undefined, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('delivers notifications to exact and wildcard handlers and validates typed ones', () => {
    const { client, reply, protocolErrors } = harness();
    const exact: unknown[] = [];
    const any: string[] = [];
    const typed: string[] = [];
    client.onNotification('agent.log', (p) => exact.push(p));
    client.onNotification('*', (_p, m) => any.push(m));
    client.onAgentNotification('agent.log', (p) => typed.push(p.msg));
    reply({ method: 'agent.log', params: { level: 'info', msg: 'hi' } });
    reply({ method: 'agent.log', params: { level: 'loud', msg: 'bad' } });
    reply({ method: 'deploy.whatever', params: {} });
    expect(exact).toHaveLength(2);
    expect(any).toEqual(['agent.log', 'agent.log', 'deploy.whatever']);
    expect(typed).toEqual(['hi']);
    expect(protocolErrors.join('\n')).toContain('notification agent.log');
  });

  it('reports malformed lines and replies to unknown ids without throwing', () => {
    const { client, reply, protocolErrors } = harness();
    client.receive('not json\n');
    reply({ id: 999, result: 1 });
    reply({ id: null, error: { code: -32700, message: 'Parse error' } });
    expect(protocolErrors).toHaveLength(3);
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const { client, sent } = harness();
    const p = client.request('agent.ping');
    const bytes = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', id: sent[0]!.id, result: 'GPU → 😀' }) + '\n');
    const cut = bytes.indexOf(0xf0) + 2;
    client.receive(bytes.slice(0, cut));
    client.receive(bytes.slice(cut));
    expect(await p).toBe('GPU → 😀');
  });

  it('answers a request from the agent with method-not-found', () => {
    const { client, sent } = harness();
    client.receive('{"jsonrpc":"2.0","id":"srv-1","method":"controller.do"}\n');
    expect(sent[0]).toMatchObject({ id: 'srv-1', error: { code: -32601 } });
  });
});
