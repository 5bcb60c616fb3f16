import os from 'node:os';
import { parsePromText, seriesKey } from '../../common/metrics/prom-text';
import { nixlCountersFromValues, type NixlCounters } from '../../common/metrics/kv-transfer';
import type { GpuSample, MetricSample, PromSample } from '../../common/run-record';
import type { MetricsTarget } from '../../common/bench-rpc';
import { GPU_QUERY_ARGS, parseGpuQueryCsv } from '../host/nvidia-smi-parse';
import { runTool, type RunTool } from '../host/run-tool';
import { httpGet } from '../supervisor/http-probe';

/**
 * Samples the deployment while a run goes on: every target's /metrics and nvidia-smi, once per
 * interval, into samples.jsonl. Prometheus series are kept as `name{labels}` → value; histogram
 * buckets are kept only for the latency histograms charts use, which keeps a vLLM scrape to a few
 * hundred series. NIXL counters are also kept in memory for the per-block KV-transfer latency.
 */

const KEEP_PREFIXES = ['vllm:', 'handoff_'];
const KEEP_BUCKETS = ['vllm:time_to_first_token_seconds_bucket', 'vllm:inter_token_latency_seconds_bucket', 'vllm:e2e_request_latency_seconds_bucket', 'handoff_router_time_to_first_token_seconds_bucket'];

export function filterSeries(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of parsePromText(text).samples) {
    if (!KEEP_PREFIXES.some((p) => s.name.startsWith(p))) continue;
    if (s.name.endsWith('_created')) continue;
    if (s.name.endsWith('_bucket') && !KEEP_BUCKETS.includes(s.name)) continue;
    if (!Number.isFinite(s.value)) continue;
    out[seriesKey(s.name, s.labels)] = s.value;
  }
  return out;
}

export interface SamplerOptions {
  targets: MetricsTarget[];
  gpu: boolean;
  intervalMs: number;
  /** ms since the run's origin. */
  nowMs: () => number;
  write: (sample: MetricSample) => void;
  note: (text: string) => void;
  nvidiaSmi?: string;
  runTool?: RunTool;
}

export class RunSampler {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private gpuEnabled: boolean;
  private readonly failing = new Set<string>();
  readonly nixl = new Map<string, NixlCounters[]>();
  readonly gpuSamples: GpuSample[] = [];
  scrapes = 0;

  constructor(private readonly o: SamplerOptions) {
    this.gpuEnabled = o.gpu;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and takes one last sample, so the run's counters end after its last request. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.tick();
  }

  private tick(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.sampleOnce().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async sampleOnce(): Promise<void> {
    const jobs: Promise<void>[] = this.o.targets.map(async (t) => {
      const tMs = this.o.nowMs();
      try {
        const res = await httpGet(t.url, { timeoutMs: Math.min(2_000, this.o.intervalMs * 2), maxBytes: 16 * 1024 * 1024 });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        const values = filterSeries(res.body);
        const sample: PromSample = { kind: 'prometheus', tMs, source: t.source, values };
        this.o.write(sample);
        const c = nixlCountersFromValues(tMs, values);
        if (c) {
          let list = this.nixl.get(t.source);
          if (!list) this.nixl.set(t.source, (list = []));
          list.push(c);
        }
        this.failing.delete(t.source);
      } catch (err) {
        if (!this.failing.has(t.source)) this.o.note(`Could not read ${t.url} (${t.source}): ${err instanceof Error ? err.message : String(err)}; its samples are missing from then on until it answers again.`);
        this.failing.add(t.source);
      }
    });
    if (this.gpuEnabled) jobs.push(this.sampleGpu());
    await Promise.all(jobs);
    this.scrapes++;
  }

  private async sampleGpu(): Promise<void> {
    const tMs = this.o.nowMs();
    const r = await (this.o.runTool ?? runTool)(this.o.nvidiaSmi ?? 'nvidia-smi', GPU_QUERY_ARGS, { timeoutMs: 5_000 });
    if (!r.found || r.code !== 0) {
      this.gpuEnabled = false;
      this.o.note(r.found ? `nvidia-smi failed (exit ${r.code ?? 'none'}): ${(r.stderr || r.stdout).trim().slice(0, 200)}; no GPU telemetry for this run.` : 'nvidia-smi is not installed on this host; no GPU telemetry for this run.');
      return;
    }
    const gpus = parseGpuQueryCsv(r.stdout);
    const sample: GpuSample = {
      kind: 'gpu',
      tMs,
      host: os.hostname(),
      gpus: gpus.map((g) => ({ index: g.index, utilizationPct: g.utilizationPct, memoryUsedMiB: g.memoryUsedMiB, memoryTotalMiB: g.memoryTotalMiB })),
    };
    this.gpuSamples.push(sample);
    this.o.write(sample);
  }
}
