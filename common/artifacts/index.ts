/**
 * Benchmark artifact import: GenAI-Perf, AIPerf and `vllm bench serve` files in, one ImportedRun
 * out. Pure functions over file names and texts, so the CLI (`handoff import`) and the renderer's
 * drag-and-drop share them. See docs/metrics.md.
 */
export { importArtifact, importArtifacts, readArtifact } from './import';
export { detectArtifact, EXPECTED_ARTIFACTS, type Detection } from './detect';
export { writeGenaiPerfCsv, writeGenaiPerfJson } from './genai-perf-writer';
export { redactText, redactValue, isSecretKey, REDACTED } from './redact';
export {
  compareReported,
  STAT_KEYS,
  TOOL_OF_KIND,
  type ArtifactFile,
  type ArtifactKind,
  type Disagreement,
  type ImportedRun,
  type ReportedMetrics,
  type ReportedStats,
  type StatKey,
  type ToolName,
} from './imported-run';
