import { z } from 'zod';
import { ReportFile, ReportFormat } from './report-model';

/**
 * The history of exports made by this Handoff ($HANDOFF_HOME/reports/history.json): what was
 * exported, when, from which runs, and where the files went. It holds no secrets: titles went
 * through the export redaction and the rest is paths, ids and counts.
 */

/** What the export was made from, as reports.export took it, so the same report can be made again. */
export const ReportHistorySource = z.object({
  runIds: z.array(z.string().min(1).max(200)).min(1).max(200).optional(),
  compare: z.tuple([z.string().min(1).max(200), z.string().min(1).max(200)]).optional(),
  sweepId: z.string().min(1).max(200).optional(),
});
export type ReportHistorySource = z.infer<typeof ReportHistorySource>;

export const ReportHistoryEntry = z.object({
  id: z.string().min(1).max(100),
  exportedAt: z.string(),
  format: ReportFormat,
  title: z.string(),
  /** `unknown`: found in the reports folder when a damaged history was rebuilt. */
  kind: z.enum(['runs', 'sweep', 'compare', 'unknown']),
  source: ReportHistorySource,
  files: z.array(ReportFile).min(1),
  runIds: z.array(z.string()),
  /** null when not known (an entry rebuilt from a file). */
  simulated: z.boolean().nullable(),
  /** Rebuilt from a file of the reports folder after the history was found damaged. */
  recovered: z.boolean().optional(),
});
export type ReportHistoryEntry = z.infer<typeof ReportHistoryEntry>;

/** The file on disk; entries are checked one by one so one bad entry does not cost the others. */
export const REPORT_HISTORY_VERSION = 1;
export const ReportHistoryFile = z.object({ version: z.literal(REPORT_HISTORY_VERSION), entries: z.array(z.unknown()) });

/** A listed entry: each file says whether it is still where it was written. */
export const ListedReportEntry = ReportHistoryEntry.extend({
  files: z.array(ReportFile.extend({ missing: z.boolean() })).min(1),
});
export type ListedReportEntry = z.infer<typeof ListedReportEntry>;

/** reports.history: newest first. */
export const ReportHistoryList = z.object({
  entries: z.array(ListedReportEntry),
  /** Set when the history file was damaged: what happened to it and what was recovered. */
  problem: z.string().nullable(),
  /** Whether reports.open can open files here (the desktop app); in the browser, download them instead. */
  canOpen: z.boolean(),
  reportsDir: z.string(),
});
export type ReportHistoryList = z.infer<typeof ReportHistoryList>;

export const ReportOpenParams = z.object({
  path: z.string().min(1).max(4096),
  /** Show the file in its folder instead of opening it. */
  reveal: z.boolean().optional(),
});
export type ReportOpenParams = z.infer<typeof ReportOpenParams>;
