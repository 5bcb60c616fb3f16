/**
 * Baseline for the mocker throughput bench: a bare node:http server that streams the same SSE
 * bytes as the mocker (same chunk builder) to every open stream, one chunk per event-loop turn,
 * with no engine, no KV pool and no metrics. Run as a script: `tsx bench/mocker-baseline-server.ts PORT`.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { ChunkWriter } from '../agents/mocker/openai-protocol';
import { tokenText, wordTokenId } from '../agents/mocker/tokenizer';

interface Stream {
  res: http.ServerResponse;
  writer: ChunkWriter;
  left: number;
  sent: number;
}

export function runBaselineServer(port: number): http.Server {
  const active = new Set<Stream>();
  let scheduled = false;
  let n = 0;
  const tick = (): void => {
    scheduled = false;
    for (const s of active) {
      const text = tokenText(wordTokenId(s.sent * 7 + 3, s.sent > 0));
      s.sent++;
      s.left--;
      if (s.left > 0) {
        s.res.write(s.writer.token(text));
      } else {
        active.delete(s);
        s.res.end(s.writer.final(text, 'length', null) + 'data: [DONE]\n\n');
      }
    }
    if (active.size > 0 && !scheduled) {
      scheduled = true;
      setImmediate(tick);
    }
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-length': 0 }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { max_tokens?: number };
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      const writer = new ChunkWriter('completion', { id: `cmpl-baseline-${n++}`, created: Math.floor(Date.now() / 1000), model: 'meta-llama/Llama-3.1-8B-Instruct', systemFingerprint: null });
      active.add({ res, writer, left: body.max_tokens ?? 16, sent: 0 });
      if (!scheduled) {
        scheduled = true;
        setImmediate(tick);
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen({ port, host: '127.0.0.1', backlog: 4096 });
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runBaselineServer(Number(process.argv[2] ?? 18999));
}
