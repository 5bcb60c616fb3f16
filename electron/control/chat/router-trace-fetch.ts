import http from 'node:http';
import { RouterTrace } from '../../../common/router-trace';
import { describeZodError } from '../../../common/errors';
import { openAiErrorMessage } from './chat-errors';

export type TraceLookup = { trace: RouterTrace; note: null } | { trace: null; note: string };

const maxTraceBytes = 1 << 20;

/**
 * The router's trace of one request (GET /handoff/traces/<id>, docs/router.md), through the same
 * forward as the chat. `waitMs` lets the router finish recording a request that was just aborted.
 */
export function fetchRouterTrace(baseUrl: string, requestId: string, waitMs: number, timeoutMs = waitMs + 5000): Promise<TraceLookup> {
  const origin = new URL(baseUrl).origin;
  const url = new URL(`${origin}/handoff/traces/${encodeURIComponent(requestId)}?waitMs=${Math.max(0, Math.round(waitMs))}`);
  return new Promise<TraceLookup>((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxTraceBytes) parts.push(c);
      });
      res.on('error', () => resolve({ trace: null, note: 'The router closed the connection while sending the trace.' }));
      res.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        if (res.statusCode === 404) {
          const msg = openAiErrorMessage(body);
          resolve({
            trace: null,
            note: /No route/.test(msg)
              ? 'This deployment runs an older router that does not serve traces; deploy it again to see what prefill and decode did.'
              : `The router has no trace of this request: ${msg}`,
          });
          return;
        }
        if (res.statusCode !== 200) {
          resolve({ trace: null, note: `The router answered HTTP ${res.statusCode} for the trace: ${openAiErrorMessage(body)}` });
          return;
        }
        let v: unknown;
        try {
          v = JSON.parse(body);
        } catch {
          resolve({ trace: null, note: 'The router sent a trace that is not JSON.' });
          return;
        }
        const r = RouterTrace.safeParse(v);
        resolve(r.success ? { trace: r.data, note: null } : { trace: null, note: describeZodError('The router trace', r.error) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ trace: null, note: `Could not read the router trace: ${err.message}.` }));
  });
}
