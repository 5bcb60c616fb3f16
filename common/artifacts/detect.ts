import type { ArtifactFile, ArtifactKind } from './imported-run';

export type Detection = { kind: ArtifactKind; reason?: undefined } | { kind: null; reason: string; companion: boolean };

export const EXPECTED_ARTIFACTS =
  'GenAI-Perf profile_export.json, *_genai_perf.json or *_genai_perf.csv; AIPerf profile_export.jsonl, profile_export_aiperf.json or profile_export_aiperf.csv; or a `vllm bench serve` result JSON';

function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}

// Files that sit in a run directory next to the results but are not results (reference §2).
const COMPANIONS: [RegExp, string][] = [
  [/^inputs\.json$/i, 'the request inputs, not results'],
  [/\.log$/i, 'a log file'],
  [/^(config\.ya?ml|checkpoint\.json|phase_manifest\.json|outputs\.json)$/i, 'tool configuration or outputs, not results'],
  [/\.(html|jpe?g|png|gzip|parquet|txt|md)$/i, 'a plot or document'],
  [/(gpu_telemetry_export|server_metrics_export|server_metrics|_timeslices|network_latency|_raw)\.|_aggregate\.json$|_collated\.json$/i, 'an auxiliary AIPerf export (telemetry, server metrics, time slices or raw records)'],
  [/^\.aiperf_results_ready\.json$/i, 'AIPerf\'s completion marker'],
  [/^analyze_export_genai_perf\.csv$/i, 'a GenAI-Perf sweep summary (import each run directory instead)'],
];

const PHASE_COPY = /(^|[\\/])phases[\\/][^\\/]+[\\/]/i;

function sniffJson(head: string, text: string, base: string): ArtifactKind | null {
  if (/^\{\s*"experiments"\s*:/.test(head)) return 'perf-analyzer-profile-export';
  if (/_genai_perf\.json$/i.test(base)) return 'genai-perf-json';
  if (/_aiperf\.json$/i.test(base)) return 'aiperf-json';
  if (/"(records|schema_version|aiperf_version)"\s*:/.test(head) || /"(was_cancelled|error_summary)"\s*:/.test(text)) return 'aiperf-json';
  if (/"telemetry_stats"\s*:/.test(text) || /"request_count"\s*:\s*\{\s*"unit"\s*:\s*"count"/.test(text)) return 'genai-perf-json';
  if (/"completed"\s*:/.test(text) && /"duration"\s*:/.test(text) && /"(mean_ttft_ms|output_throughput|request_throughput)"\s*:/.test(text)) return 'vllm-bench-json';
  if (/"time_to_first_token"\s*:\s*\{/.test(text) || /"request_throughput"\s*:\s*\{/.test(text)) return /"unit"\s*:\s*"requests"/.test(text) ? 'aiperf-json' : 'genai-perf-json';
  return null;
}

function byName(base: string): ArtifactKind | null {
  if (/\.jsonl$/i.test(base) && /profile_export/i.test(base)) return 'aiperf-jsonl';
  if (/_genai_perf\.json$/i.test(base)) return 'genai-perf-json';
  if (/_genai_perf\.csv$/i.test(base)) return 'genai-perf-csv';
  if (/_aiperf\.json$/i.test(base)) return 'aiperf-json';
  if (/_aiperf\.csv$/i.test(base)) return 'aiperf-csv';
  if (/^profile_export\.json$/i.test(base)) return 'perf-analyzer-profile-export';
  return null;
}

/**
 * Picks the importer for a file from its content first (files get renamed: AIPerf's
 * --profile-export-prefix, GenAI-Perf's --profile-export-file), then its name, so that a damaged
 * file with a known name still reaches its reader and gets a precise error.
 */
export function detectArtifact(file: ArtifactFile): Detection {
  const base = baseName(file.name);
  for (const [re, why] of COMPANIONS) if (re.test(base)) return { kind: null, reason: why, companion: true };
  // AIPerf ≥ 0.13 also writes each phase's results under phases/<phase>/; the run's own are at the top.
  if (PHASE_COPY.test(file.name)) return { kind: null, reason: 'a per-phase copy of AIPerf results (the run directory holds the whole run\'s)', companion: true };
  const text = file.text;
  const head = text.slice(0, 4096).replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('{')) {
    const nl = head.indexOf('\n');
    const firstLine = nl >= 0 ? head.slice(0, nl) : head;
    if (/\.jsonl$/i.test(base) || (/^\{"metadata"\s*:/.test(firstLine) && /"metrics"\s*:/.test(firstLine))) return { kind: 'aiperf-jsonl' };
    const k = sniffJson(head, text, base);
    if (k) return { kind: k };
  } else if (/^Metric,/.test(head)) {
    if (/genai_perf/i.test(base)) return { kind: 'genai-perf-csv' };
    if (/aiperf/i.test(base)) return { kind: 'aiperf-csv' };
    const header = head.split(/\r?\n/)[0]!.split(',');
    const p1 = header.indexOf('p1');
    const p99 = header.indexOf('p99');
    if (/Time To First Token/.test(head) || (p99 >= 0 && (p1 < 0 || p99 < p1))) return { kind: 'genai-perf-csv' };
    return { kind: 'aiperf-csv' };
  }
  const k = byName(base);
  if (k) return { kind: k };
  if (head.length === 0) return { kind: null, reason: 'the file is empty', companion: false };
  return { kind: null, reason: head.startsWith('{') || head.startsWith('[') ? 'JSON, but not in any benchmark result layout Handoff knows' : 'neither JSON nor a statistics CSV', companion: false };
}
