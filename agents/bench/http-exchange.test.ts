import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExchangePool, type RawExchange } from './http-exchange';
import { HttpProtocolError, ResponseParser } from './http-response-parser';
import { parseExchange } from './response-record';

/** A raw TCP server that answers each request with whatever the test scripts, byte for byte. */
interface ScriptedServer {
  url: string;
  connections: number;
  close(): Promise<void>;
}

const servers: ScriptedServer[] = [];
const pools: ExchangePool[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function scripted(answer: (socket: net.Socket, request: string, n: number) => void): Promise<ScriptedServer> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    let requests = 0;
    const state = { connections: 0 };
    const server = net.createServer((socket) => {
      state.connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let buf = '';
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (;;) {
          const headEnd = buf.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, headEnd))?.[1] ?? 0);
          if (buf.length < headEnd + 4 + len) return;
          const request = buf.slice(0, headEnd + 4 + len);
          buf = buf.slice(request.length);
          answer(socket, request, requests++);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const s: ScriptedServer = {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        get connections() {
          return state.connections;
        },
        close: () =>
          new Promise<void>((r) => {
            for (const so of sockets) so.destroy();
            server.close(() => r());
          }),
      };
      servers.push(s);
      resolve(s);
    });
  });
}

function pool(url: string): ExchangePool {
  const p = new ExchangePool(url, '/v1/chat/completions');
  pools.push(p);
  return p;
}

const post = (p: ExchangePool, id = 'req-1'): Promise<RawExchange> => p.post(Buffer.from('{"model":"m"}'), id);

const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const sse = (content: string): string => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;
const streamHead = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';

describe('ExchangePool', () => {
  it('sends the request id and body and reads a Content-Length response, reusing one keep-alive socket', async () => {
    const seen: string[] = [];
    const s = await scripted((so, req) => {
      seen.push(req);
      const body = '{"choices":[{"text":"ok"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}';
      so.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    const p = pool(s.url);
    const a = await post(p, 'a-1');
    const b = await post(p, 'b-2');
    expect(a.error).toBeNull();
    expect(a.status).toBe(200);
    expect(a.body.toString()).toContain('"text":"ok"');
    expect(b.error).toBeNull();
    expect(s.connections).toBe(1);
    expect(seen[0]).toMatch(/^POST \/v1\/chat\/completions HTTP\/1\.1\r\n/);
    expect(seen[0]).toContain('x-request-id: a-1\r\n');
    expect(seen[1]).toContain('x-request-id: b-2\r\n');
    expect(seen[0]!.endsWith('\r\n\r\n{"model":"m"}')).toBe(true);
    const rec = parseExchange(a, a.sendNs, false).record;
    expect(rec.outputTokens).toEqual({ usage: 1, chunks: 1 });
  });

  it('times each SSE event by the read that completed it, across chunks split at odd places', async () => {
    const events = [sse('Hello'), sse(' wörld'), sse('!'), 'data: [DONE]\n\n'];
    const wire = streamHead + events.map(chunk).join('') + '0\r\n\r\n';
    const s = await scripted((so) => {
      // Three writes with pauses, cut inside a chunk size line, chunk data and a UTF-8 character.
      const cuts = [streamHead.length + 3, wire.indexOf('ö') + 1, wire.length];
      let from = 0;
      const bytes = Buffer.from(wire, 'utf8');
      const byteCuts = cuts.map((c) => Buffer.byteLength(wire.slice(0, c)));
      byteCuts[1]! -= 1; // inside the two-byte "ö"
      const next = (k: number): void => {
        if (k >= byteCuts.length) return;
        so.write(bytes.subarray(from, byteCuts[k]));
        from = byteCuts[k]!;
        setTimeout(() => next(k + 1), 30);
      };
      next(0);
    });
    const ex = await post(pool(s.url));
    expect(ex.error).toBeNull();
    expect(ex.times.length).toBeGreaterThanOrEqual(2);
    const parsed = parseExchange(ex, ex.sendNs, true);
    expect(parsed.record.error).toBeNull();
    expect(parsed.content).toBe('Hello wörld!');
    expect(parsed.record.outputTokens.chunks).toBe(3);
    // "Hello" completes in the second read; " wörld" (cut inside "ö") and "!" in the third.
    const [t1, t2, t3] = parsed.record.chunkNs!;
    expect(t1! < t2!).toBe(true);
    expect(t2).toBe(t3);
  });

  it('reports a response that does not start with an HTTP status line', async () => {
    const s = await scripted((so) => so.end('SSH-2.0-OpenSSH_9.6\r\n'));
    const ex = await post(pool(s.url));
    expect(ex.error).toMatch(/did not start with an HTTP\/1\.x status line: "SSH-2\.0-OpenSSH_9\.6\\r\\n"/);
    expect(parseExchange(ex, ex.sendNs, true).record.error).toMatchObject({ type: 'TransportError' });
  });

  it('reports an invalid chunk size', async () => {
    const s = await scripted((so) => so.write(streamHead + chunk(sse('a')) + 'zz\r\n' + sse('b') + '\r\n0\r\n\r\n'));
    const ex = await post(pool(s.url));
    expect(ex.status).toBe(200);
    expect(ex.error).toMatch(/invalid chunk size line "zz\\r\\n" in the chunked response \(HTTP 200, after \d+ body bytes\)/);
  });

  it('reports chunk data longer than its announced size', async () => {
    const s = await scripted((so) => so.write(streamHead + '3\r\nabcdef\r\n0\r\n\r\n'));
    const ex = await post(pool(s.url));
    expect(ex.error).toMatch(/chunk data was not followed by CRLF/);
  });

  it('reports a stream the server dropped in the middle, keeping what arrived', async () => {
    const s = await scripted((so) => {
      so.write(streamHead + chunk(sse('partial')));
      setTimeout(() => so.destroy(), 30);
    });
    const ex = await post(pool(s.url));
    expect(ex.error).toMatch(/closed the connection before the response ended \(HTTP 200, \d+ body bytes received; the chunked body had no terminating zero-size chunk\)/);
    expect(ex.body.toString()).toContain('partial');
    const rec = parseExchange(ex, ex.sendNs, true).record;
    expect(rec.error).toMatchObject({ type: 'TransportError', code: 200 });
  });

  it('reports a Content-Length body cut short', async () => {
    const s = await scripted((so) => so.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"choices":'));
    const ex = await post(pool(s.url));
    expect(ex.error).toMatch(/89 of the announced body bytes were missing/);
  });

  it('reports a server that closes without answering', async () => {
    const s = await scripted((so) => so.end());
    const ex = await post(pool(s.url));
    expect(ex.error).toMatch(/closed the connection without sending a response/);
  });

  it('reports a refused connection', async () => {
    const s = await scripted(() => undefined);
    const url = s.url;
    await s.close();
    servers.length = 0;
    const ex = await post(pool(url));
    expect(ex.error).toMatch(/ECONNREFUSED/);
  });

  it('sends again on a fresh socket when the server closed the idle keep-alive socket', async () => {
    const s = await scripted((so, _req, n) => {
      so.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
      // The first socket is closed right after its response, as an idle timeout would.
      if (n === 0) setTimeout(() => so.destroy(), 20);
    });
    const p = pool(s.url);
    expect((await post(p)).error).toBeNull();
    await new Promise((r) => setTimeout(r, 60));
    const again = await post(p);
    expect(again.error).toBeNull();
    expect(again.status).toBe(200);
    expect(s.connections).toBe(2);
  });

  it('reads a body that ends when the server closes, and an HTTP error body', async () => {
    const s = await scripted((so, _req, n) => {
      if (n === 0) so.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{"choices":[{"text":"x"}]}');
      else so.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy');
    });
    const p = pool(s.url);
    const ok = await post(p);
    expect(ok.error).toBeNull();
    expect(ok.body.toString()).toBe('{"choices":[{"text":"x"}]}');
    const busy = await post(p);
    expect(busy.status).toBe(503);
    expect(parseExchange(busy, busy.sendNs, false).record.error).toEqual({ code: 503, type: 'HttpError', message: 'HTTP 503: busy' });
  });

  it('stops an in-flight request when the signal fires', async () => {
    const s = await scripted((so) => so.write(streamHead + chunk(sse('a'))));
    const ac = new AbortController();
    const pending = pool(s.url).post(Buffer.from('{}'), 'c-1', ac.signal);
    setTimeout(() => ac.abort(), 50);
    const ex = await pending;
    expect(ex.cancelled).toBe(true);
    expect(parseExchange(ex, ex.sendNs, true).record.error).toMatchObject({ code: 499, type: 'Cancelled' });
  });

  it('refuses a request id that cannot be a header value', () => {
    expect(() => pool('http://127.0.0.1:9').post(Buffer.from('{}'), 'bad\r\nid')).toThrow(/cannot be sent as a header value/);
  });
});

describe('parseExchange', () => {
  const exchange = (body: string, status = 200): RawExchange => ({ status, sendNs: 0n, body: Buffer.from(body), pieceEnds: [Buffer.byteLength(body)], times: [1000n], endNs: 2000n, error: null, cancelled: false });

  it('gives a per-request error naming the SSE event that is not valid JSON', () => {
    const rec = parseExchange(exchange(sse('a') + 'data: {"choices":[{"delta":{"content":"b"}}\n\n' + 'data: [DONE]\n\n'), 0n, true).record;
    expect(rec.error?.type).toBe('StreamError');
    expect(rec.error?.message).toMatch(/^SSE event 2 of the response is not valid JSON \(.+\): \{"choices"/);
    expect(rec.chunkNs).toEqual([]);
  });

  it('gives a per-request error for a non-streaming body that is not JSON', () => {
    expect(parseExchange(exchange('<html>oops</html>'), 0n, false).record.error?.message).toMatch(/^the response body is not valid JSON/);
  });

  it('reads every event of a stream the same way whether or not they repeat one template', () => {
    const events = [
      'data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
      ...['one', ' two', ' "three"', ' fo\\ur', ' five'].map((w) => `data: {"id":"c","choices":[{"index":0,"delta":{"content":${JSON.stringify(w)}},"finish_reason":null}]}\n\n`),
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":" six"},"finish_reason":"length"}]}\n\n',
      'data: {"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":6}}\n\n',
      'data: [DONE]\n\n',
    ];
    const parsed = parseExchange(exchange(events.join('')), 0n, true);
    expect(parsed.content).toBe('one two "three" fo\\ur five six');
    expect(parsed.record.outputTokens).toEqual({ usage: 6, chunks: 6 });
    expect(parsed.events).toHaveLength(events.length);
  });

  it('splits CRLF-framed streams too', () => {
    const parsed = parseExchange(exchange(sse('x').replace(/\n/g, '\r\n') + 'data: [DONE]\r\n\r\n'), 0n, true);
    expect(parsed.content).toBe('x');
    expect(parsed.record.error).toBeNull();
  });
});

describe('ResponseParser', () => {
  it('parses a chunked response fed one byte at a time, with extensions, trailers and an interim 100', () => {
    const wire = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nx-trailer: y\r\n\r\n');
    const p = new ResponseParser();
    const body: number[] = [];
    for (let i = 0; i < wire.length && !p.done; i++) p.feed(wire.subarray(i, i + 1), (src, s, e) => body.push(...src.subarray(s, e)));
    expect(p.done).toBe(true);
    expect(p.head?.status).toBe(200);
    expect(Buffer.from(body).toString()).toBe('hello!');
  });

  it('rejects conflicting Content-Length values and oversized heads', () => {
    expect(() => new ResponseParser().feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n'), () => undefined)).toThrow(/invalid Content-Length "3, 4"/);
    expect(() => new ResponseParser().feed(Buffer.from(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(70_000)}`), () => undefined)).toThrow(HttpProtocolError);
  });
});
