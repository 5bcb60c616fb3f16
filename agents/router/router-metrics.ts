import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PrefillPlacement, PrefillReason, RouterLeg } from '../../common/router-trace';
import type { UpstreamFailureKind } from './upstream-call';
import type { Worker } from './worker-pool';

/**
 * The router's own Prometheus series (GET /metrics). Names are documented in docs/router.md.
 * Latencies are as the router sees them: from the arrival of the client request.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'mode' | 'endpoint' | 'outcome'>;
  readonly prefill: Counter<'placement' | 'reason'>;
  readonly kvBlocks: Counter;
  readonly upstreamErrors: Counter<'leg' | 'worker' | 'kind'>;
  readonly ttft: Histogram<'mode'>;
  readonly e2e: Histogram<'mode'>;
  readonly prefillLeg: Histogram;

  constructor(workers: () => Worker[]) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'handoff_router_requests_total',
      help: 'Client requests by mode, endpoint and outcome (ok, error, aborted, bad_request)',
      labelNames: ['mode', 'endpoint', 'outcome'],
      registers,
    });
    this.prefill = new Counter({
      name: 'handoff_router_prefill_total',
      help: 'Where prompts were prefilled (remote on a prefill worker, local on the decoding worker) and why',
      labelNames: ['placement', 'reason'],
      registers,
    });
    this.kvBlocks = new Counter({
      name: 'handoff_router_kv_blocks_handed_over_total',
      help: 'KV blocks listed in kv_transfer_params.remote_block_ids passed from prefill to decode',
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'handoff_router_upstream_errors_total',
      help: 'Failed upstream calls by leg (prefill, decode, tokenize), worker and kind (connect, stale, reset, http, protocol)',
      labelNames: ['leg', 'worker', 'kind'],
      registers,
    });
    new Gauge({
      name: 'handoff_router_outstanding_requests',
      help: 'Legs in flight per worker',
      labelNames: ['worker', 'role'],
      registers,
      collect() {
        for (const w of workers()) this.set({ worker: w.url, role: w.role }, w.outstanding);
      },
    });
    // Buckets follow vLLM's TTFT and e2e histograms (reference/vllm-disagg.md §3.1) so the two compare.
    this.ttft = new Histogram({
      name: 'handoff_router_time_to_first_token_seconds',
      help: 'Arrival at the router to the first text-carrying chunk relayed (streaming requests)',
      labelNames: ['mode'],
      buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560],
      registers,
    });
    this.e2e = new Histogram({
      name: 'handoff_router_e2e_request_latency_seconds',
      help: 'Arrival at the router to the end of the response (successful requests)',
      labelNames: ['mode'],
      buckets: [0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
      registers,
    });
    this.prefillLeg = new Histogram({
      name: 'handoff_router_prefill_leg_seconds',
      help: 'Prefill leg sent to prefill response read (disaggregated, remote prefill)',
      buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
      registers,
    });
  }

  countPrefill(placement: PrefillPlacement, reason: PrefillReason): void {
    this.prefill.inc({ placement, reason });
  }

  countUpstreamError(leg: RouterLeg, worker: Worker, kind: UpstreamFailureKind): void {
    this.upstreamErrors.inc({ leg, worker: worker.url, kind });
  }
}
