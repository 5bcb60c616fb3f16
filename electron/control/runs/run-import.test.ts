import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectImportSources, prepareImport } from './run-import';

const FIXTURES = path.resolve(import.meta.dirname, '../../../e2e/fixtures/bench-artifacts');
let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'run-import-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('collectImportSources', () => {
  it('makes one run of the files given together', async () => {
    const dir = path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1');
    const s = await collectImportSources([path.join(dir, 'profile_export.jsonl'), path.join(dir, 'profile_export_aiperf.csv')]);
    expect(s).toHaveLength(1);
    expect(s[0]!.files.map((f) => f.name)).toEqual(['profile_export.jsonl', 'profile_export_aiperf.csv']);
    expect(s[0]!.name).toBe('profile_export');
  });

  it('makes a run of each directory holding results, and of each result under a name the tools do not use', async () => {
    const s = await collectImportSources([FIXTURES]);
    const rel = s.map((x) => path.relative(FIXTURES, x.sources[0]!)).sort();
    expect(rel).toEqual(['aiperf', 'aiperf/2026-dev-smoke-100k', 'aiperf/v0.1.0-dev-run1', 'genai-perf', 'genai-perf/perf_analyzer_profile_export_doc_example.json']);
    const gp = s.find((x) => x.sources[0] === path.join(FIXTURES, 'genai-perf'))!;
    // The companion README goes with the run of the directory; the renamed example is its own run.
    expect(gp.files.map((f) => f.name).sort()).toEqual(['README.txt', 'profile_export_genai_perf.json']);
  });

  it('makes one run of an AIPerf 0.13 run directory, not one more per phases/<phase>/ copy', async () => {
    const src = path.join(FIXTURES, 'aiperf/profile_export_aiperf.json');
    fs.copyFileSync(src, path.join(tmp, 'profile_export_aiperf.json'));
    for (const phase of ['warmup', 'profiling']) {
      fs.mkdirSync(path.join(tmp, 'phases', phase), { recursive: true });
      fs.copyFileSync(src, path.join(tmp, 'phases', phase, 'profile_export_aiperf.json'));
      fs.writeFileSync(path.join(tmp, 'phases', phase, 'server_metrics.json'), '{"endpoints": {}}');
    }
    const s = await collectImportSources([tmp]);
    expect(s.map((x) => x.sources)).toEqual([[tmp]]);
  });

  it('lists binary and unknown files of a directory instead of reading them', async () => {
    fs.copyFileSync(path.join(FIXTURES, 'aiperf/profile_export_aiperf.json'), path.join(tmp, 'profile_export_aiperf.json'));
    fs.writeFileSync(path.join(tmp, 'plot.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]));
    fs.writeFileSync(path.join(tmp, 'notes.txt'), 'binary\0inside');
    const [s] = await collectImportSources([tmp]);
    expect(s!.skipped).toEqual([
      { name: 'notes.txt', reason: 'binary' },
      { name: 'plot.png', reason: 'not a JSON, JSONL, CSV or text file' },
    ]);
    const p = prepareImport(s!);
    expect(p.info.ignored.filter((i) => !i.kept).map((i) => i.name)).toEqual(['notes.txt', 'plot.png']);
  });

  it('says when a directory holds no results, and when a path does not exist', async () => {
    fs.writeFileSync(path.join(tmp, 'inputs.json'), '{}');
    await expect(collectImportSources([tmp])).rejects.toThrow(/holds no benchmark results/);
    await expect(collectImportSources([path.join(tmp, 'nope')])).rejects.toThrow(/no such file or directory/);
  });

  it('redacts companion files it keeps', async () => {
    fs.copyFileSync(path.join(FIXTURES, 'aiperf/profile_export_aiperf.json'), path.join(tmp, 'profile_export_aiperf.json'));
    fs.writeFileSync(path.join(tmp, 'run.log'), 'export OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwx\n');
    const p = prepareImport((await collectImportSources([tmp]))[0]!);
    const log = p.kept.find((f) => f.name === 'run.log')!;
    expect(log.text).not.toContain('sk-abcdefghijklmnopqrstuvwx');
    expect(log.text).toContain('[redacted]');
  });
});
