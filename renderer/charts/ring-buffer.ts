/**
 * A fixed-capacity (time, value) series in typed arrays: appending is O(1) and allocates nothing,
 * so a live chart can take a sample per second for hours without growing the heap. Lives outside
 * React state (CONVENTIONS.md "State and UI"); readers copy out the window they draw.
 */
export class RingSeries {
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1) || !Number.isInteger(capacity)) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(tMs: number, value: number): void {
    const i = (this.start + this.count) % this.capacity;
    this.t[i] = tMs;
    this.v[i] = value;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Time of the newest point, or null when empty. */
  lastTime(): number | null {
    return this.count === 0 ? null : this.t[(this.start + this.count - 1) % this.capacity]!;
  }

  lastValue(): number | null {
    return this.count === 0 ? null : this.v[(this.start + this.count - 1) % this.capacity]!;
  }

  /** Points with fromMs ≤ t, oldest first, as parallel arrays (a copy). */
  since(fromMs: number): { t: Float64Array; v: Float64Array } {
    // Times are appended in order, so the window is a suffix: binary-search its first index.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[(this.start + mid) % this.capacity]! < fromMs) lo = mid + 1;
      else hi = mid;
    }
    const n = this.count - lo;
    const t = new Float64Array(n);
    const v = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = (this.start + lo + k) % this.capacity;
      t[k] = this.t[i]!;
      v[k] = this.v[i]!;
    }
    return { t, v };
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }
}
