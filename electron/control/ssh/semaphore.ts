/**
 * Counts open SSH session channels. OpenSSH's default `MaxSessions 10` counts every exec, shell
 * and sftp channel on one connection, and opening more fails with a bare "open failed"
 * (mscdex/ssh2#1190, #1395), so callers queue here instead.
 */
export class Semaphore {
  private waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }[] = [];
  private inUse = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`Semaphore capacity must be a positive integer, got ${capacity}`);
  }

  get used(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.inUse < this.capacity) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve: () => resolve(this.releaser()), reject, signal };
      if (signal) {
        w.onAbort = () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  /** Rejects every queued waiter (the connection is gone); permits already held stay held. */
  rejectAll(err: unknown): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(err);
    }
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) {
        if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
        next.resolve(); // the permit passes straight to the next waiter
      } else {
        this.inUse--;
      }
    };
  }
}
