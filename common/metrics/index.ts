/**
 * Metric math shared by the load generator, the importer and the charts (docs/metrics.md).
 * No Node or DOM APIs: this runs in the agent, the controller and the renderer.
 */
export { PERCENTILES, percentileOfSorted, summarize, type Percentile, type PercentileKey, type Stats } from './stats';
export { hasTokens, isErrorRecord, outputSequenceLength, requestMetrics, type RequestMetrics } from './request-metrics';
export { computeRunMetrics, displayValues, type RunMetrics, type RunMetricsOptions } from './run-metrics';
export { isGood, parseSlos, type Slos } from './goodput';
export {
  DISTRIBUTION_METRICS,
  DISTRIBUTION_METRIC_KEYS,
  SCALAR_METRICS,
  SCALAR_METRIC_KEYS,
  isDistributionKey,
  metricInfo,
  metricKeyForCsvName,
  metricKeyForTag,
  unitFactor,
  type DistributionMetricKey,
  type MetricInfo,
  type MetricKey,
  type ScalarMetricKey,
} from './metric-keys';
export { parseChunkData, preprocessOpenAiResponses, sseEventsData, type ChunkText, type PreprocessedResponses } from './sse-response';
export { histograms, parsePromNumber, parsePromText, seriesKey, sumSeries, toSeriesValues, type PromFamily, type PromHistogram, type PromSeries, type PromText, type PromType } from './prom-text';
export {
  blockLatencySummary,
  bytesPerBlockPerRank,
  nixlCountersFromValues,
  perBlockLatency,
  NIXL_BYTES_SUM,
  NIXL_XFER_TIME_COUNT,
  NIXL_XFER_TIME_SUM,
  type BlockLatency,
  type BlockLatencySummary,
  type KvBlockShape,
  type NixlCounters,
} from './kv-transfer';
