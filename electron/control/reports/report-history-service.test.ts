import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskRunner } from '../tasks/task-runner';
import { ReportService, type ReportOpener, type ReportRuns, type ReportServiceOptions } from './report-service';

/** reports.history / reports.open / reports.read as the controller serves them, over the history file. */

let home: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-report-svc-'));
});

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

function service(opener?: ReportOpener): ReportService {
  const opts: ReportServiceOptions = {
    home,
    // Opening and listing never read runs.
    runs: {} as ReportRuns,
    series: () => Promise.reject(new Error('unused')),
    deployments: { list: async () => [] },
    hosts: { list: async () => [] },
    tasks: new TaskRunner(),
    pdf: () => Promise.reject(new Error('unused')),
    ...(opener ? { opener } : {}),
  };
  return new ReportService(opts);
}

function fakeOpener(answer = ''): ReportOpener & { opened: string[]; revealed: string[] } {
  const o = { opened: [] as string[], revealed: [] as string[], open: async (f: string) => (o.opened.push(f), answer), reveal: (f: string) => void o.revealed.push(f) };
  return o;
}

async function pastExport(name = 'old.html'): Promise<string> {
  const file = path.join(home, 'reports', name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, '<html>old</html>');
  // Recorded by an earlier start of the app.
  await service().history.record({ format: 'html', title: 'old', kind: 'runs', source: { runIds: ['r1'] }, files: [{ path: file, bytes: 16 }], runIds: ['r1'], simulated: true });
  return file;
}

describe('ReportService and the export history', () => {
  it('lists the history with where exports go and whether files can be opened here', async () => {
    const file = await pastExport();
    const browser = await service().historyList();
    expect(browser).toMatchObject({ canOpen: false, problem: null, reportsDir: path.join(home, 'reports') });
    expect(browser.entries.map((e) => e.files[0]!.path)).toEqual([file]);
    expect((await service(fakeOpener()).historyList()).canOpen).toBe(true);
  });

  it('hands the browser a file exported before this start, because the history lists it', async () => {
    const file = await pastExport();
    const r = await service().read(file);
    expect(Buffer.from(r.dataBase64, 'base64').toString()).toBe('<html>old</html>');
    await expect(service().read(path.join(home, 'reports', 'history.json'))).rejects.toMatchObject({ code: 'report-unknown' });
  });

  it('refuses to open files outside the desktop app, saying to download instead', async () => {
    const file = await pastExport();
    await expect(service().open({ path: file })).rejects.toMatchObject({ code: 'open-unsupported', message: expect.stringMatching(/Download/) });
  });

  it('opens or reveals only exported files that still exist, and says what to do when opening fails', async () => {
    const file = await pastExport();
    const opener = fakeOpener();
    const svc = service(opener);
    await svc.open({ path: file });
    await svc.open({ path: file, reveal: true });
    expect(opener.opened).toEqual([file]);
    expect(opener.revealed).toEqual([file]);
    await expect(svc.open({ path: '/etc/passwd' })).rejects.toMatchObject({ code: 'report-unknown' });
    await fs.rm(file);
    await expect(svc.open({ path: file })).rejects.toMatchObject({ code: 'report-missing', message: expect.stringMatching(/export it again/) });
    const failing = service(fakeOpener('No application is registered for .html'));
    await pastExport('other.html');
    await expect(failing.open({ path: path.join(home, 'reports', 'other.html') })).rejects.toMatchObject({ code: 'report-open-failed', message: expect.stringMatching(/Show in folder/) });
  });
});
