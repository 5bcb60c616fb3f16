/**
 * A seeded random source for the load generator: prompt lengths, prompt start positions, output
 * lengths and Poisson gaps all come from it, so one seed gives one workload on every host.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Normal(mean, stddev) (Box–Muller). */
  gauss(mean: number, stddev: number): number;
  /** Exponential with the given rate (mean 1/rate). */
  exponential(rate: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: tiny, fast, and good enough for workload sampling (not for cryptography). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    gauss(mean, stddev) {
      if (stddev === 0) return mean;
      const u = 1 - next(); // (0, 1]: log(0) is never taken
      const v = next();
      return mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    exponential(rate) {
      return -Math.log(1 - next()) / rate;
    },
    int(n) {
      return Math.floor(next() * n);
    },
  };
}

/** A derived seed, so independent streams (prompts, lengths, arrivals) do not share a sequence. */
export function subSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
