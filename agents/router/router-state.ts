import type { JsonLog } from './json-log';
import type { RouterMetrics } from './router-metrics';
import type { RouterOptions } from './router-options';
import type { TraceWriter } from './trace-writer';
import type { WorkerPool } from './worker-pool';

/** What every request handler of one router process shares. */
export interface RouterState {
  options: RouterOptions;
  log: JsonLog;
  metrics: RouterMetrics;
  traceWriter: TraceWriter | null;
  pools: {
    /** Aggregated mode: --worker; empty otherwise. */
    workers: WorkerPool;
    prefill: WorkerPool;
    decode: WorkerPool;
  };
}
