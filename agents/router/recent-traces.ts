import type { RouterTrace } from '../../common/router-trace';

/**
 * The last traces of this router, by request id, so a client (the chat playground) can ask for the
 * trace of its own request without reading the trace file on the router's host. Bounded: the oldest
 * is forgotten first. A reader may wait for a request that has not finished yet, since a client that
 * aborts asks right away and the router learns of the abort a moment later.
 */
export class RecentTraces {
  private readonly byId = new Map<string, RouterTrace>();
  private readonly waiters = new Map<string, Set<(t: RouterTrace) => void>>();

  constructor(readonly capacity = 1000) {}

  add(trace: RouterTrace): void {
    // A copy: the request context keeps mutating its own object until it is done, and must not later.
    const t = { ...trace, error: trace.error ? { ...trace.error } : null };
    this.byId.delete(t.requestId);
    this.byId.set(t.requestId, t);
    while (this.byId.size > this.capacity) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
    const ws = this.waiters.get(t.requestId);
    if (ws) {
      this.waiters.delete(t.requestId);
      for (const w of ws) w(t);
    }
  }

  get(requestId: string): RouterTrace | null {
    return this.byId.get(requestId) ?? null;
  }

  /** The trace, waiting up to waitMs for it to appear; null if it did not (or `signal` aborted). */
  wait(requestId: string, waitMs: number, signal?: AbortSignal): Promise<RouterTrace | null> {
    const now = this.get(requestId);
    if (now || waitMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      let set = this.waiters.get(requestId);
      if (!set) this.waiters.set(requestId, (set = new Set()));
      const done = (t: RouterTrace | null): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const s = this.waiters.get(requestId);
        s?.delete(done);
        if (s && s.size === 0) this.waiters.delete(requestId);
        resolve(t);
      };
      const onAbort = (): void => done(null);
      const timer = setTimeout(() => done(null), waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(done);
    });
  }

  /** Number of requests someone is waiting on (for tests: waiters must not leak). */
  get waiting(): number {
    return this.waiters.size;
  }
}
