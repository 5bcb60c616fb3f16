import type { JsonLog } from './json-log';
import type { RouterMetrics } from './router-metrics';
import type { RouterOptions } from './router-options';
import type { RecentTraces } from './recent-traces';
import type { TraceWriter } from './trace-writer';
import type { WorkerPool } from './worker-pool';

/** What every request handler of one router process shares. */
export interface RouterState {
  options: RouterOptions;
  log: JsonLog;
  metrics: RouterMetrics;
  traceWriter: TraceWriter | null;
  /** The last traces by request id, served at GET /handoff/traces/<id>. */
  recentTraces: RecentTraces;
  pools: {
    /** Aggregated mode: --worker; empty otherwise. */
    workers: WorkerPool;
    prefill: WorkerPool;
    decode: WorkerPool;
  };
}
