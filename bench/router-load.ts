/**
 * Closed-loop streaming load for the router benchmarks: N virtual users, each sending its next
 * streaming request as soon as the previous one ends, measuring time to first token at the client.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  ttftMs: number[];
  tokens: number;
  requests: number;
  errors: number;
  wallMs: number;
}

export interface LoadOptions {
  url: string;
  path: string;
  body: Record<string, unknown>;
  concurrency: number;
  durationMs: number;
}

/** Linear-interpolation percentile (numpy's default, as DESIGN.md's metrics use). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

export async function closedLoop(o: LoadOptions): Promise<LoadResult> {
  const u = new URL(o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const payload = Buffer.from(JSON.stringify(o.body));
  const result: LoadResult = { ttftMs: [], tokens: 0, requests: 0, errors: 0, wallMs: 0 };
  const start = performance.now();
  const deadline = start + o.durationMs;

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      let first = -1;
      let events = 0;
      let lastByteWasNewline = false;
      const req = http.request(
        { host: u.hostname, port: u.port, path: o.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } },
        (res) => {
          res.on('data', (c: Buffer) => {
            if (first < 0) first = performance.now();
            // Every SSE event ends with a blank line; count them without decoding.
            let i = c.indexOf(10);
            while (i >= 0) {
              if (i === 0 ? lastByteWasNewline : c[i - 1] === 10) events++;
              i = c.indexOf(10, i + 1);
            }
            lastByteWasNewline = c[c.length - 1] === 10;
          });
          res.on('end', () => {
            result.requests++;
            if (res.statusCode === 200 && first >= 0) {
              result.ttftMs.push(first - t0);
              result.tokens += Math.max(0, events - 1); // minus [DONE]
            } else result.errors++;
            resolve();
          });
          res.on('error', () => {
            result.errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        result.errors++;
        resolve();
      });
      req.setNoDelay(true);
      const t0 = performance.now();
      req.end(payload);
    });

  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  result.wallMs = performance.now() - start;
  agent.destroy();
  return result;
}
