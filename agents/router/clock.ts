import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

/** Milliseconds since the Unix epoch with sub-millisecond resolution (monotonic within the process). */
export function nowMs(): number {
  return origin + performance.now();
}
