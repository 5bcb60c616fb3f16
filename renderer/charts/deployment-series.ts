import type { DeploymentSample } from '../../common/deployment-view';
import type { SampleKey } from '../../common/deploy-rpc';
import { RingSeries } from './ring-buffer';

/** One hour at the agent's 1 s sampling interval. */
export const SERIES_CAPACITY = 3600;

/** Numbers added up over every process of a deployment (each process's newest value). */
export const SUM_KEYS = ['requestsRunning', 'requestsWaiting', 'kvBytesPerS', 'requestsPerS'] as const satisfies readonly SampleKey[];

/** `<process>:<key>` for one process's series, `sum:<key>` for a deployment total. */
export type SeriesName = `${string}:${string}`;
export const seriesName = (process: string, key: SampleKey): SeriesName => `${process}:${key}`;
export const sumName = (key: (typeof SUM_KEYS)[number]): SeriesName => `sum:${key}`;

/**
 * The live-chart series of one deployment, fed by deployments.sample events (one per host and
 * interval). Kept outside React: charts read it when the store's throttled version moves.
 */
export class DeploymentSeries {
  private readonly series = new Map<string, RingSeries>();
  private readonly lastAtByHost = new Map<string, number>();
  private readonly latest = new Map<string, Partial<Record<string, number>>>();
  /** Why a process's /metrics could not be read at its last sample. */
  errors: Record<string, string> = {};
  /** Samples taken in (duplicates and stale ones are not counted). */
  samples = 0;
  /** Times of the oldest and newest sample, host clock. */
  firstAtMs: number | null = null;
  lastAtMs: number | null = null;

  constructor(private readonly capacity: number = SERIES_CAPACITY) {}

  /** False when the sample is a duplicate or older than one already seen from its host (two windows watching). */
  ingest(s: DeploymentSample): boolean {
    const at = Date.parse(s.at);
    if (Number.isNaN(at)) return false;
    const prev = this.lastAtByHost.get(s.host);
    if (prev !== undefined && at <= prev) return false;
    this.lastAtByHost.set(s.host, at);
    for (const [proc, values] of Object.entries(s.perProcess)) {
      this.latest.set(proc, values);
      for (const [key, v] of Object.entries(values)) if (Number.isFinite(v)) this.ring(`${proc}:${key}`).push(at, v);
    }
    const errors = { ...this.errors };
    for (const proc of Object.keys(s.perProcess)) delete errors[proc];
    Object.assign(errors, s.errors ?? {});
    this.errors = errors;
    // Hosts are sampled at different moments: a total adds each process's newest value.
    for (const key of SUM_KEYS) {
      let sum = 0;
      let seen = false;
      for (const values of this.latest.values()) {
        const v = values[key];
        if (v !== undefined && Number.isFinite(v)) {
          sum += v;
          seen = true;
        }
      }
      if (seen) this.ring(sumName(key)).push(at, sum);
    }
    this.samples++;
    this.firstAtMs = Math.min(this.firstAtMs ?? at, at);
    this.lastAtMs = Math.max(this.lastAtMs ?? at, at);
    return true;
  }

  get(name: string): RingSeries | undefined {
    return this.series.get(name);
  }

  names(): string[] {
    return [...this.series.keys()];
  }

  private ring(name: string): RingSeries {
    let r = this.series.get(name);
    if (!r) {
      r = new RingSeries(this.capacity);
      this.series.set(name, r);
    }
    return r;
  }
}

/** Every deployment's series, by deployment id. */
export class SeriesBook {
  private readonly byId = new Map<string, DeploymentSeries>();

  ingest(s: DeploymentSample): boolean {
    let d = this.byId.get(s.id);
    if (!d) {
      d = new DeploymentSeries();
      this.byId.set(s.id, d);
    }
    return d.ingest(s);
  }

  get(id: string): DeploymentSeries | undefined {
    return this.byId.get(id);
  }

  drop(id: string): void {
    this.byId.delete(id);
  }
}
