/**
 * A benchmark tool's TTFT and ITL set against the router's own trace of the same requests. Two runs
 * of different tools cannot be compared directly on a 2-core machine: the server's speed during a
 * run depends on how much CPU the tool itself takes (AIPerf's several Python processes far more
 * than the built-in generator's one event loop). The router's trace of each request (arrival, first
 * and last token) is the same yardstick for both: a tool that measures right stays close to it
 * whatever the server's speed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { requestMetrics, outputSequenceLength } from '../../common/metrics/request-metrics';
import { summarize } from '../../common/metrics/stats';
import { RequestRecord } from '../../common/run-record';

/** What a run's traces.jsonl keeps of each router trace (times in the run's nanoseconds). */
const TraceLine = z.object({
  requestId: z.string(),
  arrivalNs: z.number(),
  firstTokenNs: z.number().nullable(),
  lastTokenNs: z.number().nullable(),
});

export interface PairStats {
  client: { p50: number; avg: number };
  router: { p50: number; avg: number };
}

export interface TraceParity {
  /** Profiling requests found in both the tool's records and the router's trace. */
  matched: number;
  ttftMs: PairStats;
  itlMs: PairStats;
}

function jsonl(file: string): unknown[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

/**
 * TTFT and ITL of a collected run's profiling requests, as the tool measured them and as the router
 * traced them. The router's ITL divides by the same output length as the tool's (the record's), so
 * only the timestamps differ. Null when no request matched.
 */
export function traceParity(runDir: string): TraceParity | null {
  const traces = new Map(jsonl(path.join(runDir, 'traces.jsonl')).map((t) => TraceLine.parse(t)).map((t) => [t.requestId, t]));
  const client = { ttft: [] as number[], itl: [] as number[] };
  const router = { ttft: [] as number[], itl: [] as number[] };
  for (const raw of jsonl(path.join(runDir, 'requests.jsonl'))) {
    const rec = RequestRecord.parse(raw);
    if (rec.phase === 'warmup' || !rec.id) continue;
    const t = traces.get(rec.id);
    const m = requestMetrics(rec);
    const osl = outputSequenceLength(rec);
    if (!t || t.firstTokenNs === null || t.lastTokenNs === null || m.ttftNs === undefined || m.itlNs === undefined || osl === undefined) continue;
    client.ttft.push(m.ttftNs / 1e6);
    client.itl.push(m.itlNs / 1e6);
    router.ttft.push((t.firstTokenNs - t.arrivalNs) / 1e6);
    router.itl.push((t.lastTokenNs - t.firstTokenNs) / (osl - 1) / 1e6);
  }
  const pair = (c: number[], r: number[]): PairStats => {
    const cs = summarize(c)!;
    const rs = summarize(r)!;
    return { client: { p50: cs.p50, avg: cs.avg }, router: { p50: rs.p50, avg: rs.avg } };
  };
  if (client.ttft.length === 0) return null;
  return { matched: client.ttft.length, ttftMs: pair(client.ttft, router.ttft), itlMs: pair(client.itl, router.itl) };
}
