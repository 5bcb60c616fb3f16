/**
 * Report export end to end: run records in a real run store, exported through the controller's
 * reports.export task and the `handoff report` CLI; the HTML opened in Chromium with every network
 * request intercepted, the PDF read back with pdftotext, the CSVs parsed back, the bundle
 * unpacked, and every output searched for secrets planted in the run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRunMetrics } from '../common/metrics';
import { ReportExportResult } from '../common/report-model';
import { RequestRecord, RunJson } from '../common/run-record';
import type { Controller } from '../electron/control/controller';
import { launchChromium, reportController } from './harness/report-harness';
import { BundleManifest } from '../electron/control/reports/bundle-manifest';
import { readBundleFiles, readBundleManifest } from '../electron/control/reports/report-bundle';
import { parseMetricsCsv, parseRequestsCsv } from '../electron/control/reports/report-csv';
import { rerunRequest } from '../electron/cli/report-commands';
import { runCli } from './harness/cli';
import { PLANTED_SECRETS, writeFixtureRun, finishReportExport } from './report-fixture';


let home: string;
let out: string;
let controller: Controller;
let browser: Browser;
const records = new Map<string, RequestRecord[]>();
const runs = new Map<string, RunJson>();

async function exportReport(params: Record<string, unknown>): Promise<ReportExportResult> {
  const final = await finishReportExport(controller, params);
  if (final.state !== 'succeeded') throw new Error(`export failed: ${JSON.stringify(final.error)}`);
  expect(final.steps.every((s) => s.state === 'done')).toBe(true);
  return ReportExportResult.parse(final.result);
}

function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

function expectNoSecrets(text: string, where: string): void {
  for (const [name, secret] of Object.entries(PLANTED_SECRETS)) expect(text.includes(secret), `${name} leaked into ${where}`).toBe(false);
}

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'report-itest-'));
  out = path.join(home, 'out');
  const specs = [
    { id: 'run-sweep-c2', requests: 120, concurrency: 2, group: 'sweep-disagg', plantSecrets: true, errors: 3 },
    { id: 'run-sweep-c4', requests: 120, concurrency: 4, group: 'sweep-disagg', seed: 11 },
    { id: 'run-sweep-c8', requests: 120, concurrency: 8, group: 'sweep-disagg', seed: 13 },
    { id: 'run-agg-c4', requests: 120, concurrency: 4, mode: 'aggregated' as const, slowdown: 1.4, seed: 17 },
  ];
  for (const s of specs) {
    const w = await writeFixtureRun(home, s);
    records.set(s.id, w.records);
    runs.set(s.id, w.run);
  }
  // No host is contacted: the agent artifacts are never used by report exports.
  controller = await reportController(home);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await controller?.close();
  await fs.rm(home, { recursive: true, force: true });
});

describe('HTML report', () => {
  it('opens in Chromium offline without a single network request, with SVG charts and the numbers of run.json and the records', async () => {
    const r = await exportReport({ sweepId: 'sweep-disagg', format: 'html', outPath: path.join(out, 'sweep.html') });
    expect(r.files).toHaveLength(1);
    const file = r.files[0]!.path;
    const url = pathToFileURL(file).href;
    const context = await browser.newContext({ offline: true });
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u === url) return route.continue();
      requests.push(u);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('request', (req) => {
      if (req.url() !== url) requests.push(req.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    expect(requests).toEqual([]);
    expect(await page.getByTestId('simulated-banner').isVisible()).toBe(true);
    expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(3 * 8 + 3);
    for (const id of ['chart-throughput-vs-load', 'chart-latency-vs-load', 'chart-pareto']) expect(await page.getByTestId(id).count()).toBe(1);
    expect(await page.locator('svg.chart[data-chart="empty"]').count()).toBe(0);

    const values = await page.$$eval('[data-k][data-value]', (els) => els.map((e) => [e.getAttribute('data-k')!, e.getAttribute('data-value')!] as const));
    const shown = new Map(values);
    for (const id of ['run-sweep-c2', 'run-sweep-c4', 'run-sweep-c8']) {
      const m = computeRunMetrics(records.get(id)!, { streaming: true });
      for (const k of ['requestCount', 'errorCount', 'benchmarkDurationS', 'requestThroughputPerS', 'outputTokenThroughputPerS'] as const) {
        expect(Number(shown.get(`${id}.${k}`)), `${id}.${k}`).toBe(m.scalars[k]);
      }
      expect(Number(shown.get(`${id}.outputTokensPerSPerGpu`))).toBe(m.scalars.outputTokenThroughputPerS! / runs.get(id)!.deployment!.gpuCount);
      for (const k of ['ttftMs', 'itlMs', 'requestLatencyMs', 'isl', 'osl'] as const) {
        for (const s of ['avg', 'min', 'p50', 'p90', 'p95', 'p99', 'max', 'std'] as const) expect(Number(shown.get(`${id}.${k}.${s}`)), `${id}.${k}.${s}`).toBe(m.distributions[k]![s]);
      }
      const w = runs.get(id)!.workload;
      expect(Number(shown.get(`${id}.workload.concurrency`))).toBe(w.concurrency);
      expect(Number(shown.get(`${id}.workload.islMean`))).toBe(w.islMean);
      expect(Number(shown.get(`${id}.workload.requestCount`))).toBe(w.requestCount);
      expect(shown.get(`${id}.workload.model`)).toBe(w.model);
      expect(Number(shown.get(`${id}.deployment.gpuCount`))).toBe(runs.get(id)!.deployment!.gpuCount);
      expect(Number(shown.get(`${id}.kv.decode-0.msPerBlock`))).toBeCloseTo(4.1e-3, 12);
    }
    const text = await page.locator('body').innerText();
    expect(text).toContain('Deployment spec');
    expect(text).toContain('NVIDIA H100 80GB HBM3');
    expect(text).toContain('570.86.15');
    expect(text).toContain('handoff bench mocker-disaggregated');
    const embedded = JSON.parse((await page.locator('#handoff-report-data').textContent())!) as { runs: Array<{ id: string }> };
    expect(embedded.runs.map((x) => x.id)).toEqual(['run-sweep-c2', 'run-sweep-c4', 'run-sweep-c8']);
    await context.close();
  }, 120_000);

  it('puts the verdict of a comparison first, with its deltas and A/B charts', async () => {
    const r = await exportReport({ compare: ['run-agg-c4', 'run-sweep-c4'], format: 'html', outPath: out });
    const comparison = await controller.runs.compare({ a: 'run-agg-c4', b: 'run-sweep-c4' });
    const page = await browser.newPage({ offline: true });
    await page.goto(pathToFileURL(r.files[0]!.path).href);
    expect(await page.getByTestId('verdict').innerText()).toBe(comparison.verdict.sentence);
    expect(await page.getByTestId('verdict').getAttribute('data-outcome')).toBe('better');
    for (const id of ['chart-compare-latency', 'chart-compare-throughput', 'chart-compare-cdf-ttftMs']) expect(await page.getByTestId(id).count()).toBe(1);
    expect(await page.locator('section.run').count()).toBe(2);
    await page.close();
  }, 60_000);
});

describe('PDF report', () => {
  it('has the title, the simulated banner, the verdict and the figures as text', async () => {
    const r = await exportReport({ compare: ['run-agg-c4', 'run-sweep-c4'], format: 'pdf', outPath: path.join(out, 'compare.pdf') });
    const bytes = await fs.readFile(r.files[0]!.path);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(r.files[0]!.path).replace(/\s+/g, ' ');
    expect(text).toContain('Comparison: mocker-aggregated');
    expect(text).toContain('Simulated engine');
    expect(text).toContain('Verdict');
    expect(text).toContain('better for this workload');
    expect(text).toContain('run-sweep-c4');
    expect(text).toContain('Time to first token');
    expect(text).toContain('Deployment spec');
  }, 180_000);
});

describe('CSV export', () => {
  it('writes per-request and aggregate tables that parse back to the records and metrics', async () => {
    const r = await exportReport({ sweepId: 'sweep-disagg', format: 'csv', outPath: path.join(out, 'csv') });
    expect(r.files.map((f) => path.basename(f.path))).toEqual(['requests.csv', 'metrics.csv']);
    const back = parseRequestsCsv(await fs.readFile(r.files[0]!.path, 'utf8'));
    expect([...back.keys()]).toEqual(['run-sweep-c2', 'run-sweep-c4', 'run-sweep-c8']);
    expect(back.get('run-sweep-c4')).toEqual(records.get('run-sweep-c4'));
    expect(back.get('run-sweep-c8')).toEqual(records.get('run-sweep-c8'));
    // The planted secrets sit in error messages: those are redacted, everything else is the same.
    const strip = (rs: RequestRecord[]) => rs.map((x) => ({ ...x, error: x.error ? { ...x.error, message: '' } : null }));
    expect(strip(back.get('run-sweep-c2')!)).toEqual(strip(records.get('run-sweep-c2')!));
    expect(back.get('run-sweep-c2')!.filter((x) => x.error).every((x) => x.error!.message.includes('[redacted]'))).toBe(true);
    const metrics = parseMetricsCsv(await fs.readFile(r.files[1]!.path, 'utf8'));
    for (const id of ['run-sweep-c2', 'run-sweep-c4', 'run-sweep-c8']) {
      const m = computeRunMetrics(records.get(id)!, { streaming: true });
      expect(metrics.get(id)!.distributions).toEqual(m.distributions);
      const { outputTokensPerSPerGpu: _perGpu, ...scalars } = metrics.get(id)!.scalars;
      expect(scalars).toEqual(m.scalars);
    }
  }, 60_000);

  it('adds the comparison table for a comparison', async () => {
    const r = await exportReport({ compare: ['run-agg-c4', 'run-sweep-c4'], format: 'csv', outPath: path.join(out, 'csv-compare') });
    expect(r.files.map((f) => path.basename(f.path))).toEqual(['requests.csv', 'metrics.csv', 'comparison.csv']);
    expect(await fs.readFile(r.files[2]!.path, 'utf8')).toMatch(/^loadPoint,metric,stat,label,unit,better,a,b,delta,pctChange,change,key\n/);
  }, 60_000);
});

describe('bundle', () => {
  it('holds run.json, the raw files, the report and a manifest that repeats the sweep', async () => {
    const r = await exportReport({ sweepId: 'sweep-disagg', format: 'bundle', outPath: path.join(out, 'sweep.tar.gz') });
    const files = await readBundleFiles(r.files[0]!.path);
    for (const id of ['run-sweep-c2', 'run-sweep-c4', 'run-sweep-c8']) {
      for (const f of ['run.json', 'requests.jsonl', 'samples.jsonl', 'traces.jsonl', 'summary.json']) expect(files.has(`runs/${id}/${f}`), `${id}/${f}`).toBe(true);
      expect(RunJson.parse(JSON.parse(files.get(`runs/${id}/run.json`)!.toString())).workload).toEqual(runs.get(id)!.workload);
    }
    expect(files.has('runs/run-sweep-c2/artifacts/tool-output.json')).toBe(true);
    expect(files.get('report.html')!.toString()).toContain('<svg');
    const manifest = BundleManifest.parse(JSON.parse(files.get('manifest.json')!.toString()));
    // The first run's spec carries (redacted) secrets the others lack: no single deployment.yaml then.
    expect(manifest.deploymentSpecFile).toBeNull();
    const one = await exportReport({ runIds: ['run-sweep-c4', 'run-sweep-c8'], format: 'bundle', outPath: path.join(out, 'two.tar.gz') });
    const two = await readBundleFiles(one.files[0]!.path);
    expect(two.get('deployment.yaml')!.toString()).toContain('apiVersion: handoff/v1');
    expect(await readBundleManifest(r.files[0]!.path)).toEqual(manifest);
    expect(manifest.runs.map((x) => x.id)).toEqual(['run-sweep-c2', 'run-sweep-c4', 'run-sweep-c8']);
    for (const f of manifest.files) expect(files.get(f.path)?.length, f.path).toBe(f.bytes);
    // The first run used genai-perf, the others the built-in generator: one of them at a time.
    expect(manifest.rerun).toBeNull();
    expect(manifest.rerunNote).toContain('--run');
    const single = rerunRequest(manifest, 'my-deployment', { run: 'run-sweep-c4' });
    expect(single.method).toBe('runs.start');
    expect(single.params).toMatchObject({ deployment: 'my-deployment', tool: 'builtin', workload: { concurrency: 4, islMean: 512, oslMean: 32, minTokens: 32, maxTokens: 32, requestCount: 118 } });
    const sweep = rerunRequest(await readBundleManifest(one.files[0]!.path), 'my-deployment');
    expect(sweep.method).toBe('runs.sweep');
    expect(sweep.params).toMatchObject({ deployment: 'my-deployment', tool: 'builtin', concurrencies: [4, 8], workload: { randomSeed: 7 } });
    expect(() => rerunRequest(manifest, 'd', { run: 'nope' })).toThrow(/The bundle has no run "nope"/);
  }, 60_000);
});

describe('secrets', () => {
  it('never appear in any export of a run that carries them', async () => {
    const targets = [{ runIds: ['run-sweep-c2'] }, { sweepId: 'sweep-disagg' }, { compare: ['run-agg-c4', 'run-sweep-c2'] }];
    // The planted values really are in the run directory, so a leak would show.
    const raw = await fs.readFile(path.join(home, 'runs', 'run-sweep-c2', 'artifacts', 'tool.log'), 'utf8');
    expect(raw).toContain(PLANTED_SECRETS.hfToken);
    for (const [i, t] of targets.entries()) {
      const html = await exportReport({ ...t, format: 'html', outPath: path.join(out, `secret-${i}.html`) });
      expectNoSecrets(await fs.readFile(html.files[0]!.path, 'utf8'), `html ${JSON.stringify(t)}`);
      const csv = await exportReport({ ...t, format: 'csv', outPath: path.join(out, `secret-csv-${i}`) });
      for (const f of csv.files) expectNoSecrets(await fs.readFile(f.path, 'utf8'), f.path);
      const bundle = await exportReport({ ...t, format: 'bundle', outPath: path.join(out, `secret-${i}.tar.gz`) });
      for (const [name, data] of await readBundleFiles(bundle.files[0]!.path)) expectNoSecrets(data.toString('utf8'), `bundle ${name}`);
    }
    const pdf = await exportReport({ runIds: ['run-sweep-c2'], format: 'pdf', outPath: path.join(out, 'secret.pdf') });
    const text = pdfText(pdf.files[0]!.path);
    expect(text).toContain('[redacted]');
    expectNoSecrets(text, 'pdf');
  }, 300_000);
});

describe('bad requests', () => {
  it('refuses params naming two kinds of report, and an unknown sweep or run, with what to do', async () => {
    expect(() => controller.reports.export({ runIds: ['a'], sweepId: 'b', format: 'html' })).toThrow(/exactly one of runIds, compare or sweepId/);
    expect(() => controller.reports.export({ runIds: ['a'], format: 'docx' })).toThrow(/format/);
    await expect(exportReport({ sweepId: 'no-such-sweep', format: 'html' })).rejects.toThrow(/There is no sweep/);
    await expect(exportReport({ runIds: ['no-such-run'], format: 'html' })).rejects.toThrow(/There is no run/);
  });

  it('refuses to write CSVs over a file, and serves only files it exported', async () => {
    await fs.mkdir(out, { recursive: true });
    await fs.writeFile(path.join(out, 'plain-file'), 'x');
    await expect(exportReport({ runIds: ['run-sweep-c4'], format: 'csv', outPath: path.join(out, 'plain-file') })).rejects.toThrow(/is a file/);
    await expect(controller.reports.read('/etc/passwd')).rejects.toThrow(/not a report this Handoff exported/);
    const r = await exportReport({ runIds: ['run-sweep-c4'], format: 'html', outPath: path.join(out, 'read.html') });
    const got = await controller.reports.read(r.files[0]!.path);
    expect(got.mimeType).toBe('text/html');
    expect(Buffer.from(got.dataBase64, 'base64').toString()).toContain('<!doctype html>');
  });
});

describe('handoff report', () => {
  it('exports from the command line and prints the file, and refuses a bad format or run', async () => {
    // Report commands never reach a host; any existing file stands in for the agent bundle.
    const agent = path.join(home, 'unused-agent.cjs');
    await fs.writeFile(agent, '');
    const env = { HANDOFF_HOME: home, HOME: home, HANDOFF_AGENT_BUNDLE: agent };
    const file = path.join(out, 'cli.html');
    const ok = await runCli(['report', 'run-sweep-c4', 'run-agg-c4', '--format', 'html', '--out', file], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(file);
    expect(await fs.readFile(file, 'utf8')).toContain('data-run-id="run-agg-c4"');
    const bad = await runCli(['report', 'run-sweep-c4', '--format', 'docx'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be html, pdf, csv or bundle');
    const missing = await runCli(['report', 'nothing-here', '--format', 'html'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('There is no run or sweep "nothing-here"');
    const rerunBad = await runCli(['rerun', path.join(out, 'cli.html'), 'dep'], env);
    expect(rerunBad.code).toBe(1);
    expect(rerunBad.stderr).toMatch(/not a readable \.tar\.gz bundle|not a Handoff report bundle/);
  }, 180_000);
});
