import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../errors';
import { importArtifacts, type ArtifactFile } from './index';

const COPY = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../e2e/fixtures/bench-artifacts');
const text = (rel: string) => readFileSync(resolve(COPY, rel), 'utf8');
const JSONL = text('aiperf/v0.1.0-dev-run1/profile_export.jsonl');
const CSV = text('aiperf/v0.1.0-dev-run1/profile_export_aiperf.csv');
const AIPERF_JSON = text('aiperf/profile_export_aiperf.json');
const PA = text('genai-perf/perf_analyzer_profile_export_doc_example.json');

function failure(files: ArtifactFile[]): UserFacingError {
  try {
    importArtifacts(files);
  } catch (e) {
    if (e instanceof UserFacingError) return e;
    throw new Error(`expected a UserFacingError, got ${String(e)}`);
  }
  throw new Error('expected the import to fail');
}

describe('truncated files', () => {
  it('says a cut-off aggregate JSON looks truncated', () => {
    const e = failure([{ name: 'profile_export_aiperf.json', text: AIPERF_JSON.slice(0, 20_000) }]);
    expect(e.code).toBe('artifact-truncated');
    expect(e.message).toMatch(/profile_export_aiperf\.json ends in the middle of its JSON.*looks truncated/);
  });

  it('names the jsonl line that is cut off', () => {
    const lines = JSONL.split('\n');
    const cut = lines.slice(0, 40).join('\n') + '\n' + lines[40]!.slice(0, 300);
    const e = failure([{ name: 'run/profile_export.jsonl', text: cut }]);
    expect(e.code).toBe('artifact-truncated');
    expect(e.message).toMatch(/run\/profile_export\.jsonl, line 41: the last record is cut off/);
  });

  it('names the CSV line that lost columns', () => {
    const e = failure([{ name: 'profile_export_aiperf.csv', text: CSV.slice(0, 400) }]);
    expect(e.code).toBe('artifact-truncated');
    expect(e.message).toMatch(/profile_export_aiperf\.csv, line 5: 2 of 13 columns.*looks truncated/);
  });

  it('notices a CSV cut at a row boundary before the run totals', () => {
    const firstBlock = CSV.split('\r\n\r\n')[0]!;
    const e = failure([{ name: 'profile_export_aiperf.csv', text: firstBlock }]);
    expect(e.code).toBe('artifact-truncated');
    expect(e.message).toMatch(/no "Metric,Value" block/);
  });

  it('says a cut-off perf_analyzer export looks truncated', () => {
    const e = failure([{ name: 'profile_export.json', text: PA.slice(0, 300) }]);
    expect(e.code).toBe('artifact-truncated');
  });

  it('refuses an empty file', () => {
    const e = failure([{ name: 'profile_export.jsonl', text: '\n\n' }]);
    expect(e.code).toBe('artifact-empty');
  });
});

describe('garbage files', () => {
  it('refuses a file that is neither JSON nor a statistics CSV, listing what it accepts', () => {
    const e = failure([{ name: 'notes.bin', text: '\u0000\u0001PK\u0003garbage' }]);
    expect(e.code).toBe('artifact-unknown');
    expect(e.message).toMatch(/notes\.bin is not a benchmark result Handoff can import: neither JSON nor a statistics CSV\. Expected GenAI-Perf profile_export\.json/);
  });

  it('refuses JSON in an unknown layout', () => {
    const e = failure([{ name: 'results.json', text: '{"hello": "world"}' }]);
    expect(e.code).toBe('artifact-unknown');
    expect(e.message).toMatch(/JSON, but not in any benchmark result layout/);
  });

  it('reports where a known file stops being JSON', () => {
    const e = failure([{ name: 'profile_export_aiperf.json', text: 'hello, I am not JSON' }]);
    expect(e.code).toBe('artifact-invalid');
    expect(e.message).toMatch(/profile_export_aiperf\.json is not valid JSON/);
  });

  it('names the jsonl line that is not JSON', () => {
    const lines = JSONL.split('\n');
    lines[5] = 'oops';
    const e = failure([{ name: 'profile_export.jsonl', text: lines.join('\n') }]);
    expect(e.code).toBe('artifact-invalid');
    expect(e.message).toMatch(/profile_export\.jsonl, line 6 is not JSON/);
  });

  it('names the jsonl field with the wrong type', () => {
    const bad = JSONL.split('\n');
    bad[2] = bad[2]!.replace('"metrics":{', '"metrics":{"request_latency":{"value":"slow","unit":"ms"},');
    const e = failure([{ name: 'profile_export.jsonl', text: bad.join('\n') }]);
    expect(e.code).toBe('artifact-schema');
    expect(e.message).toMatch(/line 3: field metrics\.request_latency\.value/);
  });

  it('names a jsonl metric whose unit is not a time', () => {
    const bad = JSONL.split('\n');
    const i = bad.findIndex((l) => l.includes('"request_latency"'));
    bad[i] = bad[i]!.replace(/"request_latency":\{"value":([0-9.]+),"unit":"ms"\}/, '"request_latency":{"value":$1,"unit":"parsecs"}');
    const e = failure([{ name: 'profile_export.jsonl', text: bad.join('\n') }]);
    expect(e.message).toMatch(new RegExp(`line ${i + 1}: metric request_latency has unit "parsecs"`));
  });

  it('names the CSV cell that is not a number', () => {
    const e = failure([{ name: 'profile_export_aiperf.csv', text: CSV.replace('9059.65', 'fast') }]);
    expect(e.code).toBe('artifact-invalid');
    expect(e.message).toMatch(/line 9, column avg: "fast" is not a number/);
  });

  it('says which field is wrong in a perf_analyzer export', () => {
    const e = failure([{ name: 'profile_export.json', text: '{"experiments": [{"experiment": {"mode": "concurrency"}, "requests": []}]}' }]);
    expect(e.code).toBe('artifact-schema');
    expect(e.message).toMatch(/experiments\.0\.experiment\.value/);
  });
});

describe('directories', () => {
  it('ignores companion files of a run directory and imports the results', () => {
    const run = importArtifacts([
      { name: 'run/inputs.json', text: '{"data": []}' },
      { name: 'run/logs/aiperf.log', text: 'INFO started' },
      { name: 'run/profile_export_aiperf.csv', text: CSV },
    ]);
    expect(run.kinds).toEqual(['aiperf-csv']);
    expect(run.ignored.map((i) => i.name)).toEqual(['run/inputs.json', 'run/logs/aiperf.log']);
  });

  it('imports an AIPerf 0.13 run directory: per-phase copies, server metrics and the ready marker are companions', () => {
    const run = importArtifacts([
      { name: 'art/profile_export_aiperf.csv', text: CSV },
      { name: 'art/phases/warmup/profile_export_aiperf.csv', text: CSV },
      { name: 'art/phases/profiling/profile_export_aiperf.csv', text: CSV },
      { name: 'art/phases/profiling/server_metrics.json', text: '{"endpoints": {}}' },
      { name: 'art/.aiperf_results_ready.json', text: '{}' },
    ]);
    expect(run.kinds).toEqual(['aiperf-csv']);
    expect(run.ignored.map((i) => i.name)).toEqual([
      'art/phases/warmup/profile_export_aiperf.csv',
      'art/phases/profiling/profile_export_aiperf.csv',
      'art/phases/profiling/server_metrics.json',
      'art/.aiperf_results_ready.json',
    ]);
  });

  it('refuses files from two tools together', () => {
    const e = failure([{ name: 'a/profile_export_aiperf.csv', text: CSV }, { name: 'b/profile_export.json', text: PA }]);
    expect(e.code).toBe('artifact-mixed');
  });

  it('refuses two results of the same kind', () => {
    const e = failure([{ name: 'a/profile_export_aiperf.csv', text: CSV }, { name: 'b/profile_export_aiperf.csv', text: CSV }]);
    expect(e.code).toBe('artifact-multiple-runs');
    expect(e.message).toMatch(/a\/profile_export_aiperf\.csv and b\/profile_export_aiperf\.csv/);
  });

  it('refuses a directory with no result at all', () => {
    const e = failure([{ name: 'x/inputs.json', text: '{}' }, { name: 'x/readme.md', text: '# hi' }]);
    expect(e.code).toBe('artifact-unknown');
  });

  it('reads files that start with a byte-order mark', () => {
    const run = importArtifacts([{ name: 'profile_export_aiperf.csv', text: `\uFEFF${CSV}` }, { name: 'profile_export.jsonl', text: `\uFEFF${JSONL}` }]);
    expect(run.disagreements).toEqual([]);
    expect(run.comparedCount).toBe(131);
  });

  it('finds renamed files by their content', () => {
    const run = importArtifacts([{ name: 'myrun.csv', text: CSV }, { name: 'myrun.jsonl', text: JSONL }]);
    expect(run.kinds.sort()).toEqual(['aiperf-csv', 'aiperf-jsonl']);
    expect(run.disagreements).toEqual([]);
  });
});
