/**
 * One side of the load generator benchmark, run in its own process (pinned to one core by
 * bench/loadgen.ts): `tsx bench/loadgen-client.ts MODE KIND URL CONCURRENCY SECONDS`, where MODE
 * is `ours` (the agent's generator: runLoad + per-request record building, the real hot path) or
 * `raw` (the baseline: keep-alive sockets writing a prepared request and scanning for the end of
 * each response, nothing else), and KIND is `tiny` (non-streaming, 1 token) or `stream`.
 * Prints one JSON line: requests, chunks, wall and CPU seconds.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { runLoad } from '../agents/bench/load-generator';
import { parseExchange } from '../agents/bench/response-record';

const [mode, kind, url, concArg, secondsArg] = process.argv.slice(2);
const concurrency = Number(concArg);
const seconds = Number(secondsArg);
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const STREAM_TOKENS = 200;
const streaming = kind === 'stream';
const path = streaming ? '/v1/chat/completions' : '/v1/completions';
const body = Buffer.from(
  JSON.stringify(
    streaming
      ? { model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: STREAM_TOKENS, min_tokens: STREAM_TOKENS, ignore_eos: true }
      : { model: MODEL, prompt: 'hi', max_tokens: 1 },
  ),
);

async function ours(): Promise<{ requests: number; chunks: number }> {
  let requests = 0;
  let chunks = 0;
  const origin = process.hrtime.bigint();
  await runLoad({
    endpoint: url!,
    path,
    concurrency,
    requestRate: null,
    arrival: 'constant',
    requestCount: null,
    durationS: seconds,
    warmupRequestCount: 0,
    seed: 1,
    body: () => body,
    requestId: (_p, i) => `b${i}`,
    onResult: (_p, _i, _id, ex) => {
      const r = parseExchange(ex, origin, streaming);
      requests++;
      chunks += r.record.chunkNs?.length ?? 0;
    },
  });
  return { requests, chunks };
}

/** Keep-alive sockets, one request in flight each; a response ends at its chunked terminator or content-length. */
async function raw(): Promise<{ requests: number; chunks: number }> {
  const u = new URL(url!);
  const head = Buffer.from(`POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
  const request = Buffer.concat([head, body]);
  const end = performance.now() + seconds * 1000;
  let requests = 0;
  let chunks = 0;
  const conn = () =>
    new Promise<void>((resolve) => {
      const s = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true });
      let buf = '';
      const send = () => {
        if (performance.now() >= end) {
          s.end();
          resolve();
          return;
        }
        buf = '';
        s.write(request);
      };
      s.on('connect', send);
      s.on('data', (d: Buffer) => {
        // Streamed tokens: SSE events, counted as blank-line separators without decoding.
        if (streaming) for (let i = d.indexOf('\n\n'); i >= 0; i = d.indexOf('\n\n', i + 2)) chunks++;
        buf += d.toString('latin1');
        const hEnd = buf.indexOf('\r\n\r\n');
        if (hEnd < 0) return;
        const cl = /content-length: *(\d+)/i.exec(buf.slice(0, hEnd));
        const done = cl ? buf.length - hEnd - 4 >= Number(cl[1]) : buf.endsWith('0\r\n\r\n') || buf.includes('data: [DONE]\n\n');
        if (done) {
          requests++;
          send();
        }
      });
      s.on('error', () => resolve());
    });
  await Promise.all(Array.from({ length: concurrency }, conn));
  return { requests, chunks };
}

// bench/run.ts imports every file of bench/; only a direct run measures.
if (process.argv[1]?.endsWith('loadgen-client.ts')) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = mode === 'raw' ? await raw() : await ours();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ ...r, wallS, cpuS: (cpu.user + cpu.system) / 1e6 }) + '\n');
}
