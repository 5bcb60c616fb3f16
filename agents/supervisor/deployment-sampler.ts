import type { DeploySample } from '../../common/deploy-rpc';
import { httpGet } from './http-probe';
import { deriveSample, snapshotFromText, type MetricSnapshot } from './metric-series';

/**
 * Scrapes the /metrics of a deployment's ready processes and keeps the recent live-chart samples.
 * Scrapes run in parallel with a short timeout; overlapping requests share one scrape, so many
 * watchers cost one scrape per interval.
 */

export interface ScrapeTarget {
  name: string;
  /** Distinguishes process instances: a restarted process's counters start from zero again. */
  instance: string;
  url: string;
}

export class DeploymentSampler {
  private readonly previous = new Map<string, MetricSnapshot>();
  private readonly history: DeploySample[] = [];
  private inFlight: Promise<DeploySample> | null = null;

  constructor(
    private readonly deploymentId: string,
    private readonly targets: () => ScrapeTarget[],
    private readonly opts: { timeoutMs?: number; keep?: number } = {},
  ) {}

  /** One scrape of every target, or the one already running. */
  sampleNow(): Promise<DeploySample> {
    this.inFlight ??= this.scrape().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  /** The newest `n` samples, oldest first. */
  latest(n: number): DeploySample[] {
    return this.history.slice(-n);
  }

  get newestAtMs(): number | null {
    const s = this.history[this.history.length - 1];
    return s ? Date.parse(s.at) : null;
  }

  private async scrape(): Promise<DeploySample> {
    const targets = this.targets();
    const perProcess: Record<string, Record<string, number>> = {};
    const errors: Record<string, string> = {};
    await Promise.all(
      targets.map(async (t) => {
        const key = `${t.name}@${t.instance}`;
        try {
          const res = await httpGet(t.url, { timeoutMs: this.opts.timeoutMs ?? 800, maxBytes: 8 * 1024 * 1024 });
          if (res.status !== 200) throw new Error(`GET ${t.url} answered HTTP ${res.status}`);
          const snap = snapshotFromText(res.body, Date.now());
          const values = deriveSample(snap, this.previous.get(key) ?? null);
          this.previous.set(key, snap);
          // NaN/Inf (an exporter's odd value) cannot travel as JSON numbers; leave them out.
          perProcess[t.name] = Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
        } catch (err) {
          errors[t.name] = err instanceof Error ? err.message : String(err);
        }
      }),
    );
    const live = new Set(targets.map((t) => `${t.name}@${t.instance}`));
    for (const k of this.previous.keys()) if (!live.has(k)) this.previous.delete(k);
    const sample: DeploySample = { deploymentId: this.deploymentId, at: new Date().toISOString(), perProcess, ...(Object.keys(errors).length ? { errors } : {}) };
    this.history.push(sample);
    const keep = this.opts.keep ?? 600;
    if (this.history.length > keep) this.history.splice(0, this.history.length - keep);
    return sample;
  }
}
