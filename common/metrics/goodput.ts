import { UserFacingError } from '../errors';
import { DISTRIBUTION_METRICS, metricKeyForTag, type DistributionMetricKey } from './metric-keys';

/**
 * Service-level objectives for goodput, keyed by our metric names, in display units (ms for times,
 * tokens/sec/user for TPS/user) — the units GenAI-Perf's and AIPerf's `--goodput` take.
 */
export type Slos = Partial<Record<DistributionMetricKey, number>>;

/** The SLO metrics goodput can use: per-request values with a direction. */
const SLO_KEYS: DistributionMetricKey[] = ['ttftMs', 'ttstMs', 'ttfoMs', 'itlMs', 'requestLatencyMs', 'tpsPerUser'];

/**
 * Parses `--goodput` syntax: space- or comma-separated `name:value` pairs such as
 * `time_to_first_token:75 inter_token_latency:19.75`. Accepts the tools' tags and our keys.
 */
export function parseSlos(text: string): Slos {
  const slos: Slos = {};
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z_]+):(\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(part);
    if (!m) throw new UserFacingError('invalid-slo', `"${part}" is not an SLO. Write name:value, for example time_to_first_token:75 (ms) or output_token_throughput_per_user:20.`);
    const name = m[1]!;
    const key = (name in DISTRIBUTION_METRICS ? name : metricKeyForTag(name)) as DistributionMetricKey | undefined;
    if (!key || !SLO_KEYS.includes(key)) {
      throw new UserFacingError('invalid-slo', `"${name}" cannot be an SLO. Use one of: time_to_first_token, time_to_second_token, time_to_first_output_token, inter_token_latency, request_latency, output_token_throughput_per_user.`);
    }
    slos[key] = Number(m[2]);
  }
  return slos;
}

/** Per-request values in display units, as computed by run-metrics. */
export type DisplayValues = Partial<Record<DistributionMetricKey, number>>;

/**
 * A request is good when every SLO metric exists for it and meets its objective: at most the value
 * for times, at least the value for throughputs (AIPerf's rule). GenAI-Perf zips per-metric lists by
 * position, which misaligns when some requests lack ITL; we evaluate each request on its own values.
 */
export function isGood(values: DisplayValues, slos: Slos): boolean {
  for (const [k, limit] of Object.entries(slos) as [DistributionMetricKey, number][]) {
    const v = values[k];
    if (v === undefined || !Number.isFinite(v)) return false;
    if (DISTRIBUTION_METRICS[k].better === 'higher' ? v < limit : v > limit) return false;
  }
  return true;
}
