import type { ResolvedWorkload } from '../../common/bench-rpc';
import { DISTRIBUTION_METRICS, type DistributionMetricKey } from '../../common/metrics/metric-keys';

/**
 * A resolved workload as a genai-perf or aiperf command line (reference/genai-perf.md §1), an argv
 * array for spawn, never a shell string. The seed preset becomes exactly the seed's command:
 *   profile -m MODEL --endpoint-type chat --streaming --url URL
 *     --synthetic-input-tokens-mean 3000 --synthetic-input-tokens-stddev 0
 *     --output-tokens-mean 150 --output-tokens-stddev 0
 *     --extra-inputs min_tokens:150 --extra-inputs max_tokens:150 --extra-inputs ignore_eos:true
 *     --concurrency 10 --request-count 40 --warmup-request-count 10 --random-seed 123 --tokenizer MODEL
 */

export type ExternalTool = 'genai-perf' | 'aiperf';

function extraInputs(w: ResolvedWorkload): string[] {
  const out: string[] = [];
  const fixedMin = w.exactOutput ? (w.maxTokens ?? w.oslMean) : w.minTokens;
  if (fixedMin !== null && fixedMin !== undefined) out.push(`min_tokens:${Math.round(fixedMin)}`);
  const fixedMax = w.maxTokens ?? (w.exactOutput ? w.oslMean : null);
  if (fixedMax !== null) out.push(`max_tokens:${Math.round(fixedMax)}`);
  if (w.ignoreEos) out.push('ignore_eos:true');
  for (const [k, v] of Object.entries(w.extraBody)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push(`${k}:${String(v)}`);
  }
  return out.flatMap((e) => ['--extra-inputs', e]);
}

function goodput(w: ResolvedWorkload): string[] {
  const parts = (Object.entries(w.slos) as [DistributionMetricKey, number][]).map(([k, v]) => `${DISTRIBUTION_METRICS[k].tags[0]}:${v}`);
  return parts.length ? ['--goodput', ...parts] : [];
}

/** Things the tool cannot express, to be noted in the run record. */
export function toolLimitations(tool: ExternalTool, w: ResolvedWorkload): string[] {
  const notes: string[] = [];
  if (w.exactOutput && w.oslStddev > 0) notes.push(`${tool} cannot set min_tokens per request, so with an OSL stddev only max_tokens follows the sampled length.`);
  if (tool === 'genai-perf' && w.requestRate !== null && w.concurrency !== null) notes.push('genai-perf takes a request rate or a concurrency, not both; the rate was used.');
  if (w.outputTokenCount === 'server' && tool === 'genai-perf') notes.push('genai-perf always re-tokenizes the output; the server count option does not apply.');
  return notes;
}

export function toolArgv(tool: ExternalTool, w: ResolvedWorkload, endpoint: string, artifactDir: string): string[] {
  const url = tool === 'genai-perf' ? endpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '') : endpoint.replace(/\/+$/, '');
  const a: string[] = ['profile', '-m', w.model, '--endpoint-type', w.endpointType, '--url', url];
  if (w.streaming) a.push('--streaming');
  a.push('--synthetic-input-tokens-mean', String(w.islMean), '--synthetic-input-tokens-stddev', String(w.islStddev));
  const osl = w.oslMean ?? w.maxTokens;
  if (osl !== null) a.push('--output-tokens-mean', String(osl), '--output-tokens-stddev', String(w.oslStddev));
  a.push(...extraInputs(w));
  if (w.requestRate !== null) {
    a.push('--request-rate', String(w.requestRate));
    if (tool === 'aiperf') {
      a.push('--arrival-pattern', w.arrival);
      if (w.concurrency !== null) a.push('--concurrency', String(w.concurrency));
    }
  } else a.push('--concurrency', String(w.concurrency ?? 1));
  if (w.requestCount !== null) a.push('--request-count', String(w.requestCount));
  else if (tool === 'aiperf') a.push('--benchmark-duration', String(w.durationS));
  else a.push('--measurement-interval', String(Math.round((w.durationS ?? 0) * 1000)));
  a.push('--warmup-request-count', String(w.warmupRequestCount));
  a.push('--random-seed', String(w.randomSeed));
  a.push('--num-dataset-entries', String(w.numDatasetEntries));
  a.push('--tokenizer', w.tokenizer);
  a.push(...goodput(w));
  if (tool === 'aiperf' && w.outputTokenCount === 'server') a.push('--use-server-token-count');
  a.push('--artifact-dir', artifactDir);
  // perf_analyzer sends at a constant rate unless told otherwise (reference §6 pitfall 6).
  if (tool === 'genai-perf' && w.requestRate !== null && w.arrival === 'poisson') a.push('--', '--request-distribution', 'poisson');
  return a;
}
