import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserFacingError } from '../../../common/errors';
import { ReportHistory, type NewHistoryEntry } from './report-history';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-history-'));
});

afterEach(async () => {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

async function exportedFile(name: string, text = '<html></html>'): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
}

function entry(file: string, over: Partial<NewHistoryEntry> = {}): NewHistoryEntry {
  return { format: 'html', title: 'Benchmark: mocker-disaggregated', kind: 'runs', source: { runIds: ['run-a'] }, files: [{ path: file, bytes: 13 }], runIds: ['run-a'], simulated: true, ...over };
}

const listDir = async (): Promise<string[]> => (await fs.readdir(dir)).sort();

describe('ReportHistory', () => {
  it('starts empty when there is no history file yet, and writes none until something is exported', async () => {
    const h = new ReportHistory(dir);
    expect(await h.list()).toEqual({ entries: [], problem: null });
    expect(await listDir()).toEqual([]);
  });

  it('records exports and lists them newest first, with files that still exist', async () => {
    const h = new ReportHistory(dir);
    const a = await exportedFile('a.html');
    const b = await exportedFile('b.html');
    await h.record(entry(a, { exportedAt: '2026-11-26T10:00:00.000Z' }));
    await h.record(entry(b, { exportedAt: '2026-11-26T11:00:00.000Z', format: 'html', kind: 'compare', source: { compare: ['run-a', 'run-b'] }, runIds: ['run-a', 'run-b'] }));
    const { entries, problem } = await h.list();
    expect(problem).toBeNull();
    expect(entries.map((e) => e.files[0]!.path)).toEqual([b, a]);
    expect(entries[0]!.source).toEqual({ compare: ['run-a', 'run-b'] });
    expect(entries[0]!.files[0]!.missing).toBe(false);
    // A second instance (the next start of the app) reads the same history.
    expect((await new ReportHistory(dir).list()).entries).toHaveLength(2);
  });

  it('marks a file that was moved away as missing instead of dropping the entry', async () => {
    const h = new ReportHistory(dir);
    const a = await exportedFile('a.html');
    await h.record(entry(a));
    await fs.rm(a);
    const { entries } = await h.list();
    expect(entries).toHaveLength(1);
    expect(entries[0]!.files[0]!.missing).toBe(true);
  });

  it('writes the file atomically: concurrent records all land and no temp file is left behind', async () => {
    const h = new ReportHistory(dir);
    const files = await Promise.all(Array.from({ length: 12 }, (_, i) => exportedFile(`r${i}.html`)));
    await Promise.all(files.map((f) => h.record(entry(f))));
    expect((await h.list()).entries).toHaveLength(12);
    expect((await listDir()).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const stored = JSON.parse(await fs.readFile(h.file, 'utf8')) as { version: number; entries: unknown[] };
    expect(stored.version).toBe(1);
    expect(stored.entries).toHaveLength(12);
  });

  it('keeps only the newest entries beyond its limit', async () => {
    const h = new ReportHistory(dir, { maxEntries: 3 });
    for (let i = 0; i < 5; i++) await h.record(entry(await exportedFile(`r${i}.html`), { exportedAt: `2026-11-26T1${i}:00:00.000Z` }));
    expect((await h.list()).entries.map((e) => path.basename(e.files[0]!.path))).toEqual(['r4.html', 'r3.html', 'r2.html']);
  });

  it('recovers from a history file that is not JSON: keeps it aside, lists the exports found in the folder, and says so', async () => {
    const html = await exportedFile('benchmark-run-a-20261126.html', '<div class="banner">Simulated engine: every run…</div><section data-run-id="run-a"></section><section data-run-id="run-b"></section>');
    await exportedFile('comparison-20261126.pdf', '%PDF-1.4');
    await fs.mkdir(path.join(dir, 'sweep-csv'));
    await fs.writeFile(path.join(dir, 'sweep-csv', 'requests.csv'), 'runId\n');
    await fs.writeFile(path.join(dir, 'sweep-csv', 'metrics.csv'), 'runId\n');
    const garbage = '{"version":1,"entries":[{"id":"x"'; // cut off mid-write by a crash of another program
    await fs.writeFile(path.join(dir, 'history.json'), garbage);

    const h = new ReportHistory(dir);
    const { entries, problem } = await h.list();
    expect(problem).toMatch(/was damaged \(not valid JSON/);
    expect(problem).toMatch(/3 exports found/);
    const backups = (await listDir()).filter((n) => n.startsWith('history.damaged-'));
    expect(backups).toHaveLength(1);
    expect(problem).toContain(backups[0]!);
    // Nothing lost: the damaged bytes are kept as they were.
    expect(await fs.readFile(path.join(dir, backups[0]!), 'utf8')).toBe(garbage);
    expect(entries.map((e) => e.format).sort()).toEqual(['csv', 'html', 'pdf']);
    const recoveredHtml = entries.find((e) => e.format === 'html')!;
    expect(recoveredHtml).toMatchObject({ recovered: true, kind: 'unknown', simulated: true, runIds: ['run-a', 'run-b'], source: { runIds: ['run-a', 'run-b'] } });
    // A PDF cannot be read back: whether it was simulated is not known, and the list says nothing rather than guess.
    expect(entries.find((e) => e.format === 'pdf')!.simulated).toBeNull();
    expect(recoveredHtml.files[0]!.path).toBe(html);
    expect(entries.find((e) => e.format === 'csv')!.files.map((f) => path.basename(f.path))).toEqual(['requests.csv', 'metrics.csv']);

    // The repaired history is a valid file: a new export adds to it, and a restart sees no damage.
    await h.record(entry(await exportedFile('new.html')));
    const again = await new ReportHistory(dir).list();
    expect(again.problem).toBeNull();
    expect(again.entries).toHaveLength(4);
  });

  it('keeps the readable entries of a history with one bad entry, and the bad one in the kept copy', async () => {
    const a = await exportedFile('a.html');
    const h = new ReportHistory(dir);
    await h.record(entry(a));
    const stored = JSON.parse(await fs.readFile(h.file, 'utf8')) as { version: number; entries: unknown[] };
    stored.entries.push({ id: 'broken', format: 'docx' });
    await fs.writeFile(h.file, JSON.stringify(stored));

    const fresh = new ReportHistory(dir);
    const { entries, problem } = await fresh.list();
    expect(problem).toMatch(/1 unreadable entry/);
    expect(problem).toMatch(/1 entry read from it and 0 exports found/);
    expect(entries.map((e) => e.files[0]!.path)).toEqual([a]);
    const backup = (await listDir()).find((n) => n.startsWith('history.damaged-'))!;
    expect(await fs.readFile(path.join(dir, backup), 'utf8')).toContain('"docx"');
  });

  it('treats a JSON file of another shape as damaged rather than overwriting it', async () => {
    await fs.writeFile(path.join(dir, 'history.json'), '[1, 2, 3]');
    const { entries, problem } = await new ReportHistory(dir).list();
    expect(entries).toEqual([]);
    expect(problem).toMatch(/not an export history of this Handoff/);
    const backup = (await listDir()).find((n) => n.startsWith('history.damaged-'))!;
    expect(await fs.readFile(path.join(dir, backup), 'utf8')).toBe('[1, 2, 3]');
  });

  it('says what to do when the history cannot be read at all', async () => {
    await fs.mkdir(path.join(dir, 'history.json'));
    const err = await new ReportHistory(dir).list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserFacingError);
    expect((err as UserFacingError).code).toBe('report-history-unreadable');
    expect((err as UserFacingError).message).toMatch(/Exports still work/);
  });

  it('knows which files it exported, and forgets an entry without touching its files', async () => {
    const a = await exportedFile('a.html');
    const h = new ReportHistory(dir);
    const e = await h.record(entry(a));
    expect(await h.has(a)).toBe(true);
    expect(await h.has(path.join(dir, 'other.html'))).toBe(false);
    expect(await h.forget(e.id)).toBe(true);
    expect(await h.forget(e.id)).toBe(false);
    expect(await h.has(a)).toBe(false);
    await expect(fs.stat(a)).resolves.toBeTruthy();
  });

  it('rejects an entry that would not read back (the file stays valid)', async () => {
    const h = new ReportHistory(dir);
    await expect(h.record({ ...entry(await exportedFile('a.html')), files: [] })).rejects.toThrow();
    expect((await h.list()).entries).toEqual([]);
  });
});
