import type { ArrivalPattern } from '../../common/bench-rpc';
import { seededRng, subSeed } from './seeded-rng';

/**
 * Request-rate mode's send times. Constant: one request every 1/rate seconds (perf_analyzer's
 * default). Poisson: exponential gaps with mean 1/rate (AIPerf's default); seeded, so a run can be
 * repeated exactly. The first request goes at offset 0 in both.
 */
export function arrivalGaps(rate: number, arrival: ArrivalPattern, seed: number): () => number {
  if (!(rate > 0)) throw new Error(`request rate must be positive, got ${rate}`);
  if (arrival === 'constant') return () => 1 / rate;
  const rng = seededRng(subSeed(seed, 3));
  return () => rng.exponential(rate);
}

/** The first `n` send offsets in seconds (0 first). */
export function arrivalOffsetsS(rate: number, arrival: ArrivalPattern, n: number, seed: number): number[] {
  const gap = arrivalGaps(rate, arrival, seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += gap();
  }
  return out;
}
