import fs from 'node:fs';
import readline from 'node:readline';
import { RouterTrace as RouterTraceLine } from '../../common/router-trace';
import type { RouterTrace } from '../../common/run-record';

/**
 * Copies the router's trace records of one run into the run record. A record belongs to the run
 * when its request id is one the run sent (the generator sets X-Request-Id, which the router keeps);
 * for external tools whose ids are unknown, when it arrived within the run's time window. Times
 * are converted from the router's epoch milliseconds to the run's clock (ns since its origin).
 */

export interface TraceSelection {
  ids: ReadonlySet<string> | null;
  /** Epoch ms window used when ids is null. */
  fromEpochMs: number;
  toEpochMs: number;
}

export function toRunTrace(t: RouterTraceLine, originEpochMs: number): RouterTrace & Record<string, unknown> {
  const ns = (ms: number | null): number | null => (ms === null ? null : Math.round((ms - originEpochMs) * 1e6));
  return {
    requestId: t.requestId,
    arrivalNs: ns(t.arrivalAtMs)!,
    remotePrefill: t.prefill === 'remote',
    prefillWorker: t.prefillWorker,
    decodeWorker: t.decodeWorker,
    prefillSentNs: ns(t.prefillSentAtMs),
    prefillDoneNs: ns(t.prefillDoneAtMs),
    decodeSentNs: ns(t.decodeSentAtMs),
    firstTokenNs: ns(t.firstTokenAtMs),
    lastTokenNs: ns(t.lastTokenAtMs),
    blocks: t.kvBlocks,
    promptTokens: t.promptTokens,
    outputTokens: t.outputTokens,
    error: t.error ? `${t.error.leg}: ${t.error.message}` : null,
    // Beyond the run-record schema, kept for the trace view: why prefill went where it went.
    finishedNs: ns(t.finishedAtMs),
    prefillReason: t.prefillReason,
    status: t.status,
    httpStatus: t.httpStatus,
  };
}

export async function collectTraces(files: readonly string[], sel: TraceSelection, originEpochMs: number, onTrace: (t: RouterTrace & Record<string, unknown>) => void): Promise<{ matched: number; unreadable: string[]; badLines: number }> {
  let matched = 0;
  let badLines = 0;
  const unreadable: string[] = [];
  for (const file of files) {
    let stream: fs.ReadStream;
    try {
      await fs.promises.access(file, fs.constants.R_OK);
      stream = fs.createReadStream(file, { encoding: 'utf8' });
    } catch {
      unreadable.push(file);
      continue;
    }
    const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line.trim()) continue;
      // A cheap check before parsing: most lines of a long-lived trace file belong to other runs.
      if (sel.ids) {
        const m = /"requestId":"([^"\\]*)"/.exec(line);
        if (m && !sel.ids.has(m[1]!)) continue;
      }
      let t: RouterTraceLine;
      try {
        const r = RouterTraceLine.safeParse(JSON.parse(line) as unknown);
        if (!r.success) {
          badLines++;
          continue;
        }
        t = r.data;
      } catch {
        badLines++;
        continue;
      }
      if (sel.ids ? !sel.ids.has(t.requestId) : t.arrivalAtMs < sel.fromEpochMs || t.arrivalAtMs > sel.toEpochMs) continue;
      onTrace(toRunTrace(t, originEpochMs));
      matched++;
    }
  }
  return { matched, unreadable, badLines };
}
