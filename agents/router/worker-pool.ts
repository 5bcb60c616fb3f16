import http from 'node:http';

export type WorkerRole = 'worker' | 'prefill' | 'decode';

/** One upstream engine as the router sees it: its URL, a keep-alive agent and its outstanding legs. */
export class Worker {
  readonly agent: http.Agent;
  outstanding = 0;
  /** Until then the worker is skipped when another is available (it refused a connection). */
  downUntilMs = 0;
  readonly host: string;
  readonly port: number;
  readonly basePath: string;

  constructor(
    readonly url: string,
    readonly role: WorkerRole,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.basePath = u.pathname === '/' ? '' : u.pathname;
    // Free sockets close after 4 s: uvicorn (vLLM) drops idle keep-alive connections after 5 s, and
    // reusing one it already closed costs a failed request (retried, but slower).
    this.agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo', timeout: 4000 });
  }

  /** How messages name it: "decode worker http://…", or "worker http://…" in aggregated mode. */
  get label(): string {
    return this.role === 'worker' ? `worker ${this.url}` : `${this.role} worker ${this.url}`;
  }

  markUnreachable(nowMs: number, forMs = 1000): void {
    this.downUntilMs = nowMs + forMs;
  }
}

/** Least-outstanding choice with a rotating tie-break, skipping recently unreachable workers. */
export class WorkerPool {
  private next = 0;
  constructor(readonly workers: Worker[]) {}

  pick(nowMs: number, exclude: ReadonlySet<Worker> = new Set()): Worker | undefined {
    const n = this.workers.length;
    let best: Worker | undefined;
    let bestDown = true;
    const start = this.next;
    for (let i = 0; i < n; i++) {
      const w = this.workers[(start + i) % n]!;
      if (exclude.has(w)) continue;
      const down = w.downUntilMs > nowMs;
      if (!best || (bestDown && !down) || (bestDown === down && w.outstanding < best.outstanding)) {
        best = w;
        bestDown = down;
      }
    }
    this.next = (start + 1) % Math.max(n, 1);
    return best;
  }

  /** True when every worker has more than `limit` outstanding legs. */
  allAbove(limit: number): boolean {
    return this.workers.every((w) => w.outstanding > limit);
  }

  destroy(): void {
    for (const w of this.workers) w.agent.destroy();
  }
}
