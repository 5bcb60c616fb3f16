import { UserFacingError } from '../errors';
import { DISTRIBUTION_METRICS, metricKeyForTag, type DistributionMetricKey } from '../metrics/metric-keys';
import type { Slos } from '../metrics/goodput';
import { computeRunMetrics, type RunMetrics } from '../metrics/run-metrics';
import type { RequestRecord, Workload } from '../run-record';
import { readAiperfJson, readAiperfJsonl } from './aiperf';
import type { ArtifactReading } from './artifact-reading';
import { detectArtifact, EXPECTED_ARTIFACTS } from './detect';
import { readGenaiPerfJson, readPaProfileExport } from './genai-perf';
import { compareReported, TOOL_OF_KIND, type ArtifactFile, type ArtifactKind, type ImportedRun, type ReportedMetrics } from './imported-run';
import { redactText, redactValue } from './redact';
import { readStatsCsv } from './stats-csv';
import { readVllmBench } from './vllm-bench';

/** Reads one recognised artifact. Throws UserFacingError naming the file, line and field on bad input. */
export function readArtifact(kind: ArtifactKind, file: ArtifactFile): ArtifactReading {
  switch (kind) {
    case 'perf-analyzer-profile-export':
      return readPaProfileExport(file.name, file.text);
    case 'genai-perf-json':
      return readGenaiPerfJson(file.name, file.text);
    case 'genai-perf-csv':
    case 'aiperf-csv':
      return readStatsCsv(file.name, file.text, kind);
    case 'aiperf-jsonl':
      return readAiperfJsonl(file.name, file.text);
    case 'aiperf-json':
      return readAiperfJson(file.name, file.text);
    case 'vllm-bench-json':
      return readVllmBench(file.name, file.text);
  }
}

// Full-precision JSON summaries win over the 2-decimal CSVs when a directory has both.
const REPORT_PREFERENCE: ArtifactKind[] = ['aiperf-json', 'genai-perf-json', 'vllm-bench-json', 'aiperf-csv', 'genai-perf-csv'];
const RECORD_KINDS: ArtifactKind[] = ['aiperf-jsonl', 'perf-analyzer-profile-export', 'vllm-bench-json'];

function slosFromWorkload(goodput: Record<string, number> | null | undefined): Slos | undefined {
  if (!goodput) return undefined;
  const slos: Slos = {};
  for (const [name, v] of Object.entries(goodput)) {
    const k = (name in DISTRIBUTION_METRICS ? name : metricKeyForTag(name)) as DistributionMetricKey | undefined;
    if (k && k in DISTRIBUTION_METRICS) slos[k] = v;
  }
  return Object.keys(slos).length ? slos : undefined;
}

/**
 * Imports one run from its files (a single file, or every file of a run directory): detects each
 * file's kind, reads it, recomputes aggregates from per-request records when a file has them, and
 * lists where the tool's own figures disagree with the recomputed ones. Secrets are redacted in the
 * result and in the kept file texts. Files that are not results (inputs.json, logs, plots) are
 * listed in `ignored`; an unrecognised single file, files of several tools, or two results of the
 * same kind are errors.
 */
export function importArtifacts(files: readonly ArtifactFile[]): ImportedRun {
  if (files.length === 0) throw new UserFacingError('artifact-none', `Nothing to import. Give ${EXPECTED_ARTIFACTS}.`);
  const recognised: { file: ArtifactFile; kind: ArtifactKind }[] = [];
  const ignored: ImportedRun['ignored'] = [];
  for (const raw of files) {
    // A byte-order mark (Windows editors, some exporters) is not part of the JSON or CSV.
    const f = raw.text.charCodeAt(0) === 0xfeff ? { name: raw.name, text: raw.text.slice(1) } : raw;
    const d = detectArtifact(f);
    if (d.kind) recognised.push({ file: f, kind: d.kind });
    else if (files.length === 1) {
      throw new UserFacingError('artifact-unknown', `${f.name} is not a benchmark result Handoff can import: ${d.reason}. Expected ${EXPECTED_ARTIFACTS}.`);
    } else ignored.push({ name: f.name, reason: d.reason });
  }
  if (recognised.length === 0) {
    throw new UserFacingError('artifact-unknown', `None of the ${files.length} files is a benchmark result Handoff can import (${ignored.map((i) => i.name).join(', ')}). Expected ${EXPECTED_ARTIFACTS}.`);
  }
  const tools = [...new Set(recognised.map((r) => TOOL_OF_KIND[r.kind]))];
  if (tools.length > 1) {
    throw new UserFacingError('artifact-mixed', `These files come from different tools (${recognised.map((r) => `${r.file.name}: ${TOOL_OF_KIND[r.kind]}`).join(', ')}). Import each run directory on its own.`);
  }
  const seen = new Map<ArtifactKind, string>();
  for (const r of recognised) {
    const prev = seen.get(r.kind);
    if (prev) throw new UserFacingError('artifact-multiple-runs', `${prev} and ${r.file.name} are both ${r.kind} files, so they belong to different runs. Import each run directory on its own.`);
    seen.set(r.kind, r.file.name);
  }

  const readings = recognised.map((r) => readArtifact(r.kind, r.file));
  const byKind = new Map(readings.map((r) => [r.kind, r] as const));
  const reportedFrom = REPORT_PREFERENCE.map((k) => byKind.get(k)).find((r) => r?.reported);
  const recordsFrom = RECORD_KINDS.map((k) => byKind.get(k)).find((r) => r?.requests);
  const notes: string[] = [];
  let workload: Workload = {};
  let toolVersion: string | null = null;
  let startedAt: string | null = null;
  let finishedAt: string | null = null;
  for (const r of readings) {
    workload = { ...workload, ...r.workload };
    toolVersion ??= r.toolVersion ?? null;
    startedAt ??= r.startedAt ?? null;
    finishedAt ??= r.finishedAt ?? null;
    notes.push(...(r.notes ?? []));
  }
  const reported: ReportedMetrics | null = reportedFrom?.reported ?? null;
  const requests: RequestRecord[] | null = recordsFrom?.requests ?? null;
  let recomputed: RunMetrics | null = null;
  let disagreements: ImportedRun['disagreements'] = [];
  let comparedCount = 0;
  if (requests) {
    const streaming = recordsFrom?.streaming ?? workload.streaming ?? true;
    if (workload.streaming == null) workload.streaming = streaming;
    recomputed = computeRunMetrics(requests, { streaming, slos: slosFromWorkload(workload.goodput) });
    if (recordsFrom?.noTimeline) {
      for (const k of ['benchmarkDurationS', 'requestThroughputPerS', 'outputTokenThroughputPerS', 'goodputPerS', 'minRequestTimestampNs', 'maxResponseTimestampNs'] as const) delete recomputed.scalars[k];
    }
    if (reported) ({ disagreements, compared: comparedCount } = compareReported(reported, recomputed));
    // Error messages can echo request headers; the rest of a record is numbers.
    for (const r of requests) if (r.error && r.error.message) r.error.message = redactText(r.error.message);
  }
  return {
    tool: tools[0]!,
    toolVersion: toolVersion === null ? null : redactText(toolVersion),
    kinds: recognised.map((r) => r.kind),
    schemas: readings.map((r) => r.schema),
    workload: redactValue(workload),
    startedAt,
    finishedAt,
    requests,
    reported,
    recomputed,
    disagreements,
    comparedCount,
    files: recognised.map((r, i) => ({ name: r.file.name, kind: r.kind, text: readings[i]!.redactedText ?? redactText(r.file.text) })),
    ignored,
    notes: notes.map(redactText),
  };
}

/** Imports a single file; see importArtifacts. */
export function importArtifact(file: ArtifactFile): ImportedRun {
  return importArtifacts([file]);
}
