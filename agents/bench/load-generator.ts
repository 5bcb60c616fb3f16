import type { ArrivalPattern } from '../../common/bench-rpc';
import { arrivalGaps } from './arrival-schedule';
import { ExchangePool, type RawExchange } from './http-exchange';
import { abortableSleep } from '../../common/abortable-sleep';

/**
 * Drives requests at an endpoint: concurrency mode (N requests always in flight, like
 * perf_analyzer's concurrency manager) or request-rate mode (sends on a constant or Poisson
 * schedule, optionally capped by a concurrency limit, like AIPerf with both set). Warmup requests
 * run first with the same load and are all finished before profiling starts; profiling ends after
 * a request count or, for a duration, stops sending when it elapses and lets in-flight requests
 * finish. The abort signal stops sending and aborts in-flight requests.
 */

export type RequestPhase = 'warmup' | 'profiling';

export interface LoadOptions {
  endpoint: string;
  path: string;
  concurrency: number | null;
  requestRate: number | null;
  arrival: ArrivalPattern;
  requestCount: number | null;
  durationS: number | null;
  warmupRequestCount: number;
  seed: number;
  /** The body of the request with this index (indices count warmup and profiling separately). */
  body(phase: RequestPhase, index: number): Buffer;
  requestId(phase: RequestPhase, index: number): string;
  /** Called as each request ends, in completion order; must be quick. */
  onResult(phase: RequestPhase, index: number, requestId: string, ex: RawExchange): void;
  onPhase?(phase: RequestPhase): void;
  signal?: AbortSignal;
}

export interface LoadOutcome {
  warmupSent: number;
  profilingSent: number;
  cancelled: boolean;
}

const sleep = abortableSleep;

export async function runLoad(o: LoadOptions): Promise<LoadOutcome> {
  const rateMode = o.requestRate !== null;
  const pool = new ExchangePool(o.endpoint, o.path);
  const outcome: LoadOutcome = { warmupSent: 0, profilingSent: 0, cancelled: false };
  const signal = o.signal;

  const one = async (phase: RequestPhase, index: number): Promise<void> => {
    const id = o.requestId(phase, index);
    const ex = await pool.post(o.body(phase, index), id, signal);
    o.onResult(phase, index, id, ex);
  };

  /** Sends until `more(index)` says stop; returns how many were sent. */
  const phaseRun = async (phase: RequestPhase, more: (index: number) => boolean): Promise<number> => {
    let next = 0;
    if (!rateMode) {
      const worker = async (): Promise<void> => {
        while (!signal?.aborted && more(next)) await one(phase, next++);
      };
      await Promise.all(Array.from({ length: o.concurrency ?? 1 }, worker));
      return next;
    }
    const gap = arrivalGaps(o.requestRate!, o.arrival, o.seed + (phase === 'warmup' ? 1 : 0));
    const inFlight = new Set<Promise<void>>();
    const startMs = performance.now();
    let dueS = 0;
    while (!signal?.aborted && more(next)) {
      await sleep(startMs + dueS * 1000 - performance.now(), signal);
      if (signal?.aborted) break;
      if (o.concurrency !== null) while (inFlight.size >= o.concurrency && !signal?.aborted) await Promise.race(inFlight);
      if (signal?.aborted || !more(next)) break;
      const p = one(phase, next++).finally(() => inFlight.delete(p));
      inFlight.add(p);
      dueS += gap();
    }
    await Promise.all(inFlight);
    return next;
  };

  try {
    if (o.warmupRequestCount > 0) {
      o.onPhase?.('warmup');
      outcome.warmupSent = await phaseRun('warmup', (i) => i < o.warmupRequestCount);
    }
    if (!signal?.aborted) {
      o.onPhase?.('profiling');
      const endMs = o.durationS !== null ? performance.now() + o.durationS * 1000 : Infinity;
      const count = o.requestCount;
      outcome.profilingSent = await phaseRun('profiling', (i) => (count !== null ? i < count : performance.now() < endMs));
    }
  } finally {
    pool.close();
  }
  outcome.cancelled = signal?.aborted ?? false;
  return outcome;
}
