import { parsePromNumber, parsePromText, type PromSeries } from '../../common/metrics/prom-text';
import type { SampleKey } from '../../common/deploy-rpc';

/**
 * Turns two consecutive /metrics scrapes of one process into the handful of live-chart numbers
 * (SAMPLE_KEYS). Works for vLLM workers, the mocker (same names) and the router
 * (`handoff_router_*`). Counters become rates over the interval; histograms become percentiles of
 * the observations made during the interval (bucket deltas, linear interpolation inside a bucket
 * as Prometheus' histogram_quantile does). Metric names: reference/vllm-disagg.md §3.1–3.2.
 */

type Buckets = Array<{ le: number; count: number }>;

export interface MetricSnapshot {
  atMs: number;
  counters: Partial<Record<CounterKey, number>>;
  gauges: Partial<Record<GaugeKey, number>>;
  histograms: Partial<Record<HistKey, { buckets: Buckets; sum: number; count: number }>>;
}

type CounterKey = 'requests' | 'generationTokens' | 'nixlBytes' | 'externalPromptTokens' | 'prefillRemote' | 'prefillAll';
type GaugeKey = 'running' | 'waiting' | 'kvCacheUsage' | 'outstanding';
type HistKey = 'ttft' | 'itl';

/** Candidate names in order of preference; counters appear with and without `_total` depending on the exporter. */
const COUNTERS: Record<CounterKey, Array<{ names: string[]; labels?: Record<string, string> }>> = {
  requests: [{ names: ['vllm:request_success_total', 'vllm:request_success'] }, { names: ['handoff_router_requests_total'] }],
  generationTokens: [{ names: ['vllm:generation_tokens_total', 'vllm:generation_tokens'] }],
  nixlBytes: [{ names: ['vllm:nixl_bytes_transferred_sum'] }],
  externalPromptTokens: [{ names: ['vllm:prompt_tokens_by_source_total', 'vllm:prompt_tokens_by_source'], labels: { source: 'external_kv_transfer' } }],
  prefillRemote: [{ names: ['handoff_router_prefill_total'], labels: { placement: 'remote' } }],
  prefillAll: [{ names: ['handoff_router_prefill_total'] }],
};
const GAUGES: Record<GaugeKey, string[]> = {
  running: ['vllm:num_requests_running'],
  waiting: ['vllm:num_requests_waiting'],
  kvCacheUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  outstanding: ['handoff_router_outstanding_requests'],
};
const HISTOGRAMS: Record<HistKey, string[]> = {
  ttft: ['vllm:time_to_first_token_seconds', 'handoff_router_time_to_first_token_seconds'],
  itl: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
};

function matches(s: PromSeries, labels: Record<string, string> | undefined): boolean {
  if (!labels) return true;
  for (const [k, v] of Object.entries(labels)) if (s.labels[k] !== v) return false;
  return true;
}

export function snapshotFromText(text: string, atMs: number): MetricSnapshot {
  const byName = new Map<string, PromSeries[]>();
  for (const s of parsePromText(text).samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  const sum = (name: string, labels?: Record<string, string>): number | undefined => {
    const list = byName.get(name)?.filter((s) => matches(s, labels) && Number.isFinite(s.value));
    return list && list.length ? list.reduce((a, s) => a + s.value, 0) : undefined;
  };
  const snap: MetricSnapshot = { atMs, counters: {}, gauges: {}, histograms: {} };
  for (const key of Object.keys(COUNTERS) as CounterKey[]) {
    for (const c of COUNTERS[key]) {
      const v = c.names.map((n) => sum(n, c.labels)).find((x) => x !== undefined);
      if (v !== undefined) {
        snap.counters[key] = v;
        break;
      }
    }
  }
  for (const key of Object.keys(GAUGES) as GaugeKey[]) {
    const v = GAUGES[key].map((n) => sum(n)).find((x) => x !== undefined);
    if (v !== undefined) snap.gauges[key] = v;
  }
  for (const key of Object.keys(HISTOGRAMS) as HistKey[]) {
    for (const base of HISTOGRAMS[key]) {
      const bucketSamples = byName.get(`${base}_bucket`);
      if (!bucketSamples) continue;
      // Summed over label sets (DP engines, router modes): one distribution per process.
      const byLe = new Map<number, number>();
      for (const s of bucketSamples) {
        const le = s.labels.le === undefined ? undefined : parsePromNumber(s.labels.le);
        if (le === undefined || Number.isNaN(le)) continue;
        byLe.set(le, (byLe.get(le) ?? 0) + s.value);
      }
      const buckets = [...byLe.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
      snap.histograms[key] = { buckets, sum: sum(`${base}_sum`) ?? 0, count: sum(`${base}_count`) ?? buckets[buckets.length - 1]?.count ?? 0 };
      break;
    }
  }
  return snap;
}

/** The q-quantile of cumulative buckets, interpolating linearly inside the bucket it falls in; undefined without observations. */
export function bucketQuantile(q: number, buckets: Buckets): number | undefined {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank && b.count > prevCount) {
      // Like histogram_quantile: the +Inf bucket has no upper bound, so answer its lower one.
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Bucket-wise difference cur − prev (same bounds expected); null when a counter went backwards (process restarted). */
function bucketDelta(cur: Buckets, prev: Buckets): Buckets | null {
  const prevByLe = new Map(prev.map((b) => [b.le, b.count]));
  const out: Buckets = [];
  for (const b of cur) {
    const d = b.count - (prevByLe.get(b.le) ?? 0);
    if (d < 0) return null;
    out.push({ le: b.le, count: d });
  }
  return out;
}

/** The live-chart values of one process from its previous and current snapshots (prev null: gauges only). */
export function deriveSample(cur: MetricSnapshot, prev: MetricSnapshot | null): Partial<Record<SampleKey, number>> {
  const out: Partial<Record<SampleKey, number>> = {};
  const g = cur.gauges;
  if (g.running !== undefined) out.requestsRunning = g.running;
  if (g.waiting !== undefined) out.requestsWaiting = g.waiting;
  if (g.kvCacheUsage !== undefined) out.kvCacheUsagePct = g.kvCacheUsage * 100;
  if (g.outstanding !== undefined) out.outstandingRequests = g.outstanding;
  if (!prev) return out;
  const dtS = (cur.atMs - prev.atMs) / 1000;
  if (!(dtS > 0)) return out;
  const delta = (k: CounterKey): number | undefined => {
    const a = cur.counters[k];
    const b = prev.counters[k];
    if (a === undefined) return undefined;
    const d = a - (b ?? 0);
    return b === undefined || d < 0 ? undefined : d;
  };
  const rate = (k: CounterKey, key: SampleKey) => {
    const d = delta(k);
    if (d !== undefined) out[key] = d / dtS;
  };
  rate('requests', 'requestsPerS');
  rate('generationTokens', 'generationTokensPerS');
  rate('nixlBytes', 'kvBytesPerS');
  rate('externalPromptTokens', 'externalPromptTokensPerS');
  const remote = delta('prefillRemote');
  const all = delta('prefillAll');
  if (all !== undefined && all > 0) out.remotePrefillRatio = (remote ?? 0) / all;
  const hist = (k: HistKey) => {
    const c = cur.histograms[k];
    const p = prev.histograms[k];
    if (!c || !p) return null;
    const buckets = bucketDelta(c.buckets, p.buckets);
    const count = c.count - p.count;
    if (!buckets || !(count > 0)) return null;
    return { buckets, count, sum: c.sum - p.sum };
  };
  const ttft = hist('ttft');
  if (ttft) {
    const p50 = bucketQuantile(0.5, ttft.buckets);
    const p99 = bucketQuantile(0.99, ttft.buckets);
    if (p50 !== undefined) out.ttftP50Ms = p50 * 1000;
    if (p99 !== undefined) out.ttftP99Ms = p99 * 1000;
  }
  const itl = hist('itl');
  if (itl) {
    const p50 = bucketQuantile(0.5, itl.buckets);
    if (p50 !== undefined) out.itlP50Ms = p50 * 1000;
    out.itlMeanMs = (itl.sum / itl.count) * 1000;
  }
  return out;
}
