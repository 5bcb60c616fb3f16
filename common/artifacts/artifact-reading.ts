import type { RequestRecord, Workload } from '../run-record';
import type { ArtifactKind, ReportedMetrics } from './imported-run';

/** What one file contributed; import.ts merges the readings of a run's files into an ImportedRun. */
export interface ArtifactReading {
  kind: ArtifactKind;
  schema: string;
  toolVersion?: string | null;
  workload?: Workload;
  reported?: ReportedMetrics;
  requests?: RequestRecord[];
  /** Whether the requests streamed, when the file says so. */
  streaming?: boolean;
  startedAt?: string | null;
  finishedAt?: string | null;
  notes?: string[];
  /** The records' send times are not real (older vLLM results): no duration or throughput. */
  noTimeline?: boolean;
  /** The file's text with secrets redacted, when the reader did it more cheaply than redactText. */
  redactedText?: string;
}

/** Drops undefined fields so merging workloads never overwrites a known value with nothing. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
  return out;
}
