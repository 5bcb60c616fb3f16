/**
 * The export history through the real controller: a finished export is listed by
 * reports.history, a cancelled one (cancel lands while the PDF prints) leaves no entry and no file.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReportHistoryList } from '../common/report-history';
import type { Task } from '../common/task';
import { reportController } from './harness/report-harness';
import { writeFixtureRun } from './report-fixture';

let home: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-report-history-'));
});

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('exports and the history, through the controller', () => {
  it('adds a finished export to the history, and a cancelled one leaves no entry', async () => {
    await writeFixtureRun(home, { id: 'run-h1', requests: 20, concurrency: 2 });
    // A PDF printer that only ends when the export is cancelled: cancel always lands mid-export.
    let printing: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (printing = resolve));
    const pdfRenderer = (_html: string, signal?: AbortSignal): Promise<Buffer> =>
      new Promise((_resolve, reject) => {
        printing();
        signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const controller = await reportController(home, { pdfRenderer });
    try {
      const finished = (id: string): Promise<Task> => controller.tasks.wait(id);
      const html = controller.reports.export({ runIds: ['run-h1'], format: 'html' });
      const done = await finished(html.id);
      expect(done.state).toBe('succeeded');
      const pdf = controller.reports.export({ runIds: ['run-h1'], format: 'pdf' });
      await started;
      controller.tasks.cancel(pdf.id);
      expect((await finished(pdf.id)).state).toBe('cancelled');

      const list = (await controller.handle('reports.history', {})) as ReportHistoryList;
      expect(list.entries).toHaveLength(1);
      expect(list.entries[0]).toMatchObject({ format: 'html', kind: 'runs', source: { runIds: ['run-h1'] }, runIds: ['run-h1'], simulated: true });
      expect(list.entries[0]!.files[0]!.path).toBe((done.result as { files: Array<{ path: string }> }).files[0]!.path);
      expect((await fs.readdir(path.join(home, 'reports'))).filter((n) => n.endsWith('.pdf'))).toEqual([]);
    } finally {
      await controller.close();
    }
  });
});
