import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../../../common/errors';
import { REPORT_HISTORY_VERSION, ReportHistoryEntry, ReportHistoryFile, type ListedReportEntry } from '../../../common/report-history';
import type { ReportFile, ReportFormat } from '../../../common/report-model';

/**
 * $HANDOFF_HOME/reports/history.json: every export this Handoff made. Written atomically (temp +
 * rename) one change at a time. A damaged file is never overwritten in place: it is kept beside
 * as history.damaged-<time>.json, the readable entries are kept, and the exports still in the
 * reports folder are listed again, so nothing is lost.
 */

export const HISTORY_FILE = 'history.json';
const DEFAULT_MAX_ENTRIES = 1000;
/** Run ids are read back from recovered HTML reports only when they are this small. */
const SCAN_HTML_MAX_BYTES = 32 * 1024 * 1024;

export type NewHistoryEntry = Omit<ReportHistoryEntry, 'id' | 'exportedAt'> & { exportedAt?: string };

interface Loaded {
  entries: ReportHistoryEntry[];
}

const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export class ReportHistory {
  private queue: Promise<unknown> = Promise.resolve();
  /** What the last repair did; kept for the controller's life so every window can say it. */
  private repairNote: string | null = null;

  constructor(
    readonly dir: string,
    private readonly opts: { maxEntries?: number } = {},
  ) {}

  get file(): string {
    return path.join(this.dir, HISTORY_FILE);
  }

  /** Newest first, each file marked missing when it is no longer where it was written. */
  list(): Promise<{ entries: ListedReportEntry[]; problem: string | null }> {
    return this.serial(async () => {
      const { entries } = await this.load();
      const listed = await Promise.all(
        entries.map(async (e) => ({
          ...e,
          files: await Promise.all(e.files.map(async (f) => ({ ...f, missing: !(await fs.stat(f.path).then((st) => st.isFile() || st.isDirectory(), () => false)) }))),
        })),
      );
      return { entries: listed.sort((a, b) => b.exportedAt.localeCompare(a.exportedAt)), problem: this.repairNote };
    });
  }

  record(entry: NewHistoryEntry): Promise<ReportHistoryEntry> {
    return this.serial(async () => {
      const { entries } = await this.load();
      const full = ReportHistoryEntry.parse({ ...entry, id: crypto.randomUUID(), exportedAt: entry.exportedAt ?? new Date().toISOString() });
      const max = this.opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
      const kept = [...entries, full].sort((a, b) => a.exportedAt.localeCompare(b.exportedAt)).slice(-max);
      await this.write(kept);
      return full;
    });
  }

  /** Whether `file` (absolute) is one of the files an export in the history wrote. */
  has(file: string): Promise<boolean> {
    const abs = path.resolve(file);
    return this.serial(async () => (await this.load()).entries.some((e) => e.files.some((f) => path.resolve(f.path) === abs)));
  }

  /** Removes an entry from the history; its files stay where they are. */
  forget(id: string): Promise<boolean> {
    return this.serial(async () => {
      const { entries } = await this.load();
      const kept = entries.filter((e) => e.id !== id);
      if (kept.length === entries.length) return false;
      await this.write(kept);
      return true;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<Loaded> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return { entries: [] };
      throw new UserFacingError(
        'report-history-unreadable',
        `Cannot read the export history ${this.file} (${errnoOf(err) ?? String(err)}). Exports still work; fix the file's permissions (or move it away) to see the history again.`,
      );
    }
    let json: unknown;
    let reason: string | null = null;
    try {
      json = JSON.parse(text);
    } catch (err) {
      reason = `not valid JSON: ${(err as Error).message}`;
    }
    const top = reason === null ? ReportHistoryFile.safeParse(json) : null;
    if (top && !top.success) reason = `not an export history of this Handoff (${top.error.issues[0]?.path.join('.') || 'file'}: ${top.error.issues[0]?.message ?? 'unexpected shape'})`;
    const entries: ReportHistoryEntry[] = [];
    let dropped = 0;
    if (top?.success) {
      for (const raw of top.data.entries) {
        const e = ReportHistoryEntry.safeParse(raw);
        if (e.success) entries.push(e.data);
        else dropped += 1;
      }
      if (dropped === 0) return { entries };
      reason = `${dropped} unreadable entr${dropped === 1 ? 'y' : 'ies'}`;
    }
    return this.repair(text, entries, reason ?? 'unreadable');
  }

  /** Keeps the damaged file, keeps what was readable, adds back the exports found on disk, writes a fresh history. */
  private async repair(text: string, kept: ReportHistoryEntry[], reason: string): Promise<Loaded> {
    const backup = path.join(this.dir, `history.damaged-${stamp()}-${crypto.randomBytes(2).toString('hex')}.json`);
    try {
      await fs.mkdir(this.dir, { recursive: true });
      await fs.writeFile(backup, text, { mode: 0o600 });
    } catch (err) {
      throw new UserFacingError('report-history-damaged', `The export history ${this.file} is damaged (${reason}) and could not be kept aside (${errnoOf(err) ?? String(err)}); move it away by hand, then reload.`);
    }
    const known = new Set(kept.flatMap((e) => e.files.map((f) => path.resolve(f.path))));
    const found = (await this.scanReportsDir()).filter((e) => !e.files.some((f) => known.has(path.resolve(f.path))));
    const entries = [...kept, ...found].sort((a, b) => a.exportedAt.localeCompare(b.exportedAt));
    await this.write(entries);
    this.repairNote =
      `The export history ${this.file} was damaged (${reason}). It was kept as ${backup} and a new history was started with ` +
      `${kept.length} entr${kept.length === 1 ? 'y' : 'ies'} read from it and ${found.length} export${found.length === 1 ? '' : 's'} found in ${this.dir}. ` +
      'Exported files are untouched; exports saved outside that folder and not listed here are still where they were written.';
    return { entries };
  }

  /** Exports lying in the reports folder: HTML, PDF, bundles, and CSV folders. */
  private async scanReportsDir(): Promise<ReportHistoryEntry[]> {
    const names = await fs.readdir(this.dir, { withFileTypes: true }).catch(() => []);
    const out: ReportHistoryEntry[] = [];
    for (const d of names) {
      const abs = path.join(this.dir, d.name);
      if (d.isDirectory()) {
        const csvs = ['requests.csv', 'metrics.csv', 'comparison.csv'].map((n) => path.join(abs, n));
        const files: ReportFile[] = [];
        for (const f of csvs) {
          const st = await fs.stat(f).catch(() => null);
          if (st?.isFile()) files.push({ path: f, bytes: st.size });
        }
        if (files.length) out.push(await this.recovered('csv', d.name, files, abs));
        continue;
      }
      if (!d.isFile() || d.name.startsWith('history') || d.name.endsWith('.tmp')) continue;
      const format: ReportFormat | null = d.name.endsWith('.html') ? 'html' : d.name.endsWith('.pdf') ? 'pdf' : d.name.endsWith('.tar.gz') ? 'bundle' : null;
      if (!format) continue;
      const st = await fs.stat(abs).catch(() => null);
      if (st) out.push(await this.recovered(format, d.name, [{ path: abs, bytes: st.size }], abs));
    }
    return out;
  }

  private async recovered(format: ReportFormat, name: string, files: ReportFile[], abs: string): Promise<ReportHistoryEntry> {
    const st = await fs.stat(abs);
    let runIds: string[] = [];
    let simulated: boolean | null = null;
    if (format === 'html' && st.size <= SCAN_HTML_MAX_BYTES) {
      const html = await fs.readFile(abs, 'utf8').catch(() => '');
      runIds = [...new Set([...html.matchAll(/data-run-id="([^"]{1,200})"/g)].map((m) => m[1]!))];
      // The banner report-html.ts puts on every report of mocker numbers.
      if (html.includes('Simulated engine')) simulated = true;
    }
    return {
      id: crypto.randomUUID(),
      exportedAt: st.mtime.toISOString(),
      format,
      title: name.replace(/\.(html|pdf|tar\.gz)$/, ''),
      kind: 'unknown',
      source: runIds.length ? { runIds: runIds.slice(0, 200) } : {},
      files,
      runIds,
      simulated,
      recovered: true,
    };
  }

  private async write(entries: ReportHistoryEntry[]): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(3).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, JSON.stringify({ version: REPORT_HISTORY_VERSION, entries }, null, 2) + '\n', { mode: 0o600 });
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new UserFacingError('report-history-write-failed', `Cannot update the export history ${this.file} (${errnoOf(err) ?? String(err)}). The export itself was written; free disk space or fix the folder's permissions.`);
    }
  }
}
