import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import YAML from 'yaml';
import { exampleSpec, freePortRun } from './harness/deploy-specs';
import { apiCall, screenshotPath, startUiServer, useFakeGpus, type UiServer } from './ui-fixture';
import { fullShot, openApp, watchPage } from './ui-page';

/**
 * The Benchmarks pages in the browser UI against the real controller and the local agent ("This
 * computer"): the seed preset on simulated (mocker) deployments, the run view's charts, import by
 * drag and drop and by the file picker, a sweep, and the comparison verdict.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures', 'bench-artifacts');

test.describe.configure({ mode: 'serial' });

let restoreGpus: (() => Promise<void>) | undefined;
let ui: UiServer;
const deployed: string[] = [];

interface Deployment {
  id: string;
  name: string;
  state: string;
}

async function deploy(specText: string, name: string): Promise<Deployment> {
  const r = await apiCall<{ deployment: Deployment }>(ui, 'deployments.apply', { specText });
  deployed.push(r.deployment.id);
  await expect
    .poll(async () => (await apiCall<Deployment[]>(ui, 'deployments.list', { refresh: true })).find((d) => d.id === r.deployment.id)?.state, { timeout: 90_000, message: `${name} gets ready` })
    .toBe('ready');
  return r.deployment;
}

async function aggregatedSpec(gpu: number): Promise<string> {
  const spec = YAML.parse(await fs.readFile(path.join(HERE, '..', 'examples', 'mocker-monolithic.yaml'), 'utf8')) as {
    name: string;
    workers: Array<{ host?: string; port?: number; gpus: number[] }>;
    router: { port: number };
  };
  const base = await freePortRun(3);
  spec.name = 'bench-agg';
  spec.workers[0]!.host = 'this-computer';
  spec.workers[0]!.port = base;
  spec.workers[0]!.gpus = [gpu];
  spec.router.port = base + 1;
  return YAML.stringify(spec);
}

/** Drops files on an element the way a browser does: a DataTransfer holding File objects. */
async function dropFiles(page: Page, testId: string, files: Array<{ name: string; text: string }>): Promise<void> {
  const dt = await page.evaluateHandle((list) => {
    const d = new DataTransfer();
    for (const f of list) d.items.add(new File([f.text], f.name, { type: 'application/octet-stream' }));
    return d;
  }, files);
  const zone = page.getByTestId(testId);
  await zone.dispatchEvent('dragover', { dataTransfer: dt });
  await zone.dispatchEvent('drop', { dataTransfer: dt });
}

interface RunDetail {
  summary: { id: string; status: string; simulated: boolean; imported: boolean; headline: { outputTokensPerSPerGpu: number | null } | null };
  metrics: { scalars: Record<string, number>; distributions: Record<string, Record<string, number>> } | null;
  import: { disagreements: unknown[]; comparedCount: number } | null;
  run?: { tool: { cpus?: string } } | null;
}

let disaggRun = '';
let aggRun = '';

test.beforeAll(async () => {
  restoreGpus = await useFakeGpus({ count: 4 });
  ui = await startUiServer(process.env.HANDOFF_RENDERER_DIR ? { staticDir: process.env.HANDOFF_RENDERER_DIR } : {});
});

test.afterAll(async () => {
  for (const id of deployed) await apiCall(ui, 'deployments.teardown', { id }).catch(() => undefined);
  try {
    await ui?.close();
  } catch {
    // The local agent may still be removing a stopped deployment's files while the home is deleted.
    await new Promise((r) => setTimeout(r, 1000));
    await fs.rm(ui.home, { recursive: true, force: true });
  }
  await restoreGpus?.();
});

test('runs the seed preset from the UI against a simulated deployment and shows its charts with the figures of runs.get', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchPage(page);
  const pd = await exampleSpec({ prefill: 'this-computer', decode: 'this-computer' });
  const [disagg, agg] = await Promise.all([deploy(pd.text.replace(/^name: .*$/m, 'name: bench-pd'), 'bench-pd'), deploy(await aggregatedSpec(3), 'bench-agg')]);
  await openApp(page, ui);

  await page.getByTestId('nav-benchmarks').click();
  await expect(page.getByTestId('page-benchmarks')).toBeVisible();
  await expect(page.getByTestId('runs-empty')).toBeVisible();
  await page.getByTestId('runs-new').click();

  await page.getByTestId('bench-deployment').selectOption(disagg.id);
  await expect(page.getByTestId('bench-simulated-badge')).toBeVisible();
  await expect(page.getByTestId('banner-simulated')).toContainText('SIMULATED');
  // Seed is the default preset; the external tools say whether the host has them.
  await expect(page.getByTestId('bench-preset-seed').locator('input')).toBeChecked();
  await expect(page.getByTestId('bench-preset-seed')).toContainText('ISL 3000±0, OSL 150');
  await expect(page.getByTestId('bench-tool-builtin')).toHaveAttribute('data-installed', 'true');
  for (const t of ['genai-perf', 'aiperf']) await expect(page.getByTestId(`bench-tool-${t}`)).toHaveAttribute('data-installed', /true|false/);
  await fullShot(page, 'bench-1-new-form');

  await page.getByTestId('bench-start').click();
  const progress = page.getByTestId('task-progress');
  await expect(progress).toBeVisible();
  await expect(page.getByTestId('bench-live')).toBeVisible({ timeout: 60_000 });
  // Profiling takes ~10 s here and the figures are asked for every second: the snapshot shows it.
  await expect(page.getByTestId('bench-live-phase')).toHaveText(/profiling|collecting|done/, { timeout: 60_000 });
  await fullShot(page, 'bench-2-running');
  await expect(progress).toHaveAttribute('data-state', 'succeeded', { timeout: 180_000 });
  const open1 = page.locator('[data-testid^="bench-open-run-"]');
  await expect(open1).toHaveCount(1);
  disaggRun = ((await open1.getAttribute('data-testid')) ?? '').replace('bench-open-run-', '');
  await open1.click();

  // The run view: KPI cards equal runs.get's figures, and every chart drew an SVG.
  await expect(page.getByTestId('page-run')).toHaveAttribute('data-run-id', disaggRun);
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'complete');
  await expect(page.getByTestId('run-view-simulated')).toBeVisible();
  const detail = await apiCall<RunDetail>(ui, 'runs.get', { id: disaggRun });
  const m = detail.metrics!;
  const expected: Record<string, number | null | undefined> = {
    'output-tokens-per-s': m.scalars.outputTokenThroughputPerS,
    'output-tokens-per-s-per-gpu': detail.summary.headline?.outputTokensPerSPerGpu,
    'requests-per-s': m.scalars.requestThroughputPerS,
    'ttft-p50': m.distributions.ttftMs?.p50,
    'ttft-p99': m.distributions.ttftMs?.p99,
    'itl-p50': m.distributions.itlMs?.p50,
    'itl-p99': m.distributions.itlMs?.p99,
    'latency-p50': m.distributions.requestLatencyMs?.p50,
    'latency-p99': m.distributions.requestLatencyMs?.p99,
    requests: m.scalars.requestCount,
  };
  expect(m.scalars.requestCount).toBe(40);
  for (const [id, v] of Object.entries(expected)) {
    expect(v, `runs.get has ${id}`).toEqual(expect.any(Number));
    expect(Number(await page.getByTestId(`kpi-${id}`).getAttribute('data-value')), `KPI ${id}`).toBe(v);
    await expect(page.getByTestId(`kpi-${id}-text`)).not.toHaveText('—');
  }
  for (const chart of ['percentiles', 'histogram-ttft', 'cdf-ttft', 'scatter-ttft-isl', 'series-queue', 'series-kv-cache', 'series-gpu-util']) {
    const c = page.getByTestId(`bench-chart-${chart}`);
    await expect(c.locator('svg.recharts-surface').first(), `chart ${chart} draws`).toBeVisible({ timeout: 15_000 });
    expect(Number(await c.getAttribute('data-points')), `chart ${chart} has points`).toBeGreaterThan(0);
  }
  // 40 requests: the histogram has bars and the CDF ends at 100 %.
  await expect(page.getByTestId('bench-chart-histogram-ttft').locator('.recharts-bar-rectangle').first()).toBeVisible();
  // Per-block KV-transfer latency of the decode worker, with the fabric figure the mocker models.
  const kvRun = page.locator('[data-testid^="kv-transfer-run-"]').first();
  await expect(kvRun).toBeVisible();
  expect(Number(await kvRun.getAttribute('data-value'))).toBeGreaterThan(0);
  await expect(page.getByTestId('kv-transfer-fabric')).toContainText('µs');
  await expect(page.getByTestId('bench-chart-kv-transfer').locator('.recharts-reference-line')).toHaveCount(1);
  await fullShot(page, 'bench-3-run-view');
  await page.getByTestId('dist-metric-itl').click();
  await expect(page.getByTestId('bench-chart-histogram-itl').locator('svg.recharts-surface').first()).toBeVisible();

  // The same preset on the aggregated deployment, for the comparison below.
  const started = await apiCall<{ runIds: string[]; task: { id: string } }>(ui, 'runs.start', { deployment: agg.id, workload: { preset: 'seed' } });
  aggRun = started.runIds[0]!;
  await expect.poll(async () => (await apiCall<{ state: string }>(ui, 'tasks.get', { id: started.task.id })).state, { timeout: 180_000 }).toBe('succeeded');
  expect(errors).toEqual([]);
});

test('imports AIPerf results by drag and drop and GenAI-Perf results by the file picker, and says clearly what is wrong with a bad file', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchPage(page);
  await openApp(page, ui);
  await page.getByTestId('nav-benchmarks').click();

  // A truncated jsonl: refused with the file and line, nothing imported.
  const jsonl = await fs.readFile(path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1/profile_export.jsonl'), 'utf8');
  const csv = await fs.readFile(path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1/profile_export_aiperf.csv'), 'utf8');
  await dropFiles(page, 'import-drop-zone', [{ name: 'profile_export.jsonl', text: jsonl.slice(0, Math.floor(jsonl.length / 2)) }]);
  await expect(page.getByTestId('import-error-0')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('import-error-0-message')).toContainText('profile_export.jsonl');
  await expect(page.getByTestId('import-error-0-message')).toContainText('Nothing was imported');
  await page.screenshot({ path: screenshotPath('bench-4-import-error') });
  await dropFiles(page, 'import-drop-zone', [{ name: 'notes.txt', text: 'hello' }]);
  await expect(page.getByTestId('import-error-0-message')).toContainText('not a benchmark result');

  // The AIPerf run directory's two files, dropped together: one run, its records recomputed.
  await dropFiles(page, 'import-drop-zone', [
    { name: 'profile_export.jsonl', text: jsonl },
    { name: 'profile_export_aiperf.csv', text: csv },
  ]);
  const report = page.getByTestId('import-report-0');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(report).toContainText('aiperf');
  await expect(report).toContainText('per-request records');
  const imported = (await report.getAttribute('data-run-id'))!;
  const detail = await apiCall<RunDetail>(ui, 'runs.get', { id: imported });
  expect(detail.summary.imported).toBe(true);
  expect(detail.import!.comparedCount).toBeGreaterThan(0);
  await expect(page.getByTestId(detail.import!.disagreements.length ? 'import-disagreements-0' : 'import-agrees-0')).toBeVisible();
  await expect(page.getByTestId(`run-${imported}-imported`)).toBeVisible();
  await page.screenshot({ path: screenshotPath('bench-5-import-report') });

  // The same records with a CSV whose ITL average was edited: the disagreement is listed.
  const edited = csv.replace(/^Inter Token Latency \(ms\),27\.76,/m, 'Inter Token Latency (ms),29.00,');
  expect(edited).not.toBe(csv);
  await dropFiles(page, 'import-drop-zone', [
    { name: 'profile_export.jsonl', text: jsonl },
    { name: 'profile_export_aiperf.csv', text: edited },
  ]);
  await expect(page.getByTestId('import-disagreements-0')).toHaveAttribute('data-count', '1', { timeout: 60_000 });
  const row = page.getByTestId('import-disagreements-table-0').getByTestId('disagreement-itlMs-avg');
  await expect(row.locator('td').nth(2)).toHaveText('29');
  await expect(row.locator('td').nth(3)).toHaveText(/^27\.7\d+$/);
  await page.screenshot({ path: screenshotPath('bench-5b-import-disagreement') });

  // The directory picker: the run directory imports as one run named after it.
  await page.getByTestId('import-directory-input').setInputFiles(path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1'));
  await expect(page.getByTestId('import-open-0')).toHaveText('v0.1.0-dev-run1', { timeout: 60_000 });

  // The file picker, with the GenAI-Perf summary (no per-request records).
  await page.getByTestId('import-file-input').setInputFiles(path.join(FIXTURES, 'genai-perf/profile_export_genai_perf.json'));
  await expect(page.getByTestId('import-report-0')).toContainText('summary only', { timeout: 30_000 });

  // The imported AIPerf run: its charts from the records, and the comparison with the tool's CSV.
  await page.getByTestId(`run-open-${imported}`).click();
  await expect(page.getByTestId('page-run')).toHaveAttribute('data-run-id', imported);
  await expect(page.getByTestId('run-import')).toBeVisible();
  await expect(page.getByTestId(detail.import!.disagreements.length ? 'run-disagreements' : 'run-disagreements-none')).toBeVisible();
  await expect(page.getByTestId('bench-chart-cdf-ttft').locator('svg.recharts-surface').first()).toBeVisible();
  await expect(page.getByTestId('run-no-samples')).toContainText('Imported runs');
  await fullShot(page, 'bench-6-imported-run');
  expect(errors).toEqual([]);
});

test('compares the disaggregated with the aggregated run and puts the verdict first', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchPage(page);
  await openApp(page, ui);
  await page.getByTestId('nav-benchmarks').click();
  await page.getByTestId(`run-select-${aggRun}`).check();
  await page.getByTestId(`run-select-${disaggRun}`).check();
  await page.getByTestId('runs-compare').click();
  await expect(page.getByTestId('page-compare')).toBeVisible();
  const verdict = page.getByTestId('compare-verdict');
  await expect(verdict).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('compare-verdict-sentence')).toContainText(/^disaggregated: /);
  await expect(page.getByTestId('compare-verdict-sentence')).toContainText('(simulated: mocker engine)');
  await expect(verdict).toHaveAttribute('data-outcome', /better|worse|mixed|no-significant-difference/);
  await expect(page.getByTestId('compare-workload')).toHaveAttribute('data-same', 'true');
  const key = page.getByTestId('delta-ttftMs-p99');
  await expect(key).toBeVisible();
  await expect(key).toHaveAttribute('data-change', /better|worse|same/);
  // The verdict sits above everything else on the page.
  const vBox = await verdict.boundingBox();
  const tBox = await page.getByTestId('compare-metrics').boundingBox();
  expect(vBox!.y).toBeLessThan(tBox!.y);
  await fullShot(page, 'bench-7-compare');

  // An imported run against a simulated one: workloads differ, not comparable, said plainly.
  const runs = await apiCall<Array<{ id: string; imported: boolean; tool: string }>>(ui, 'runs.list');
  const aiperf = runs.find((r) => r.imported && r.tool === 'aiperf')!;
  await page.getByTestId('compare-a').selectOption(aiperf.id);
  await expect(page.getByTestId('compare-verdict')).toHaveAttribute('data-outcome', 'not-comparable', { timeout: 30_000 });
  await expect(page.getByTestId('compare-workload')).toHaveAttribute('data-same', 'false');
  await expect(page.locator('[data-testid^="workload-diff-"][data-blocking="true"]').first()).toBeVisible();
  await page.screenshot({ path: screenshotPath('bench-8-compare-mismatch') });
  expect(errors).toEqual([]);
});

test('cancelling a running benchmark from its progress keeps what it recorded as a partial run', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = watchPage(page);
  await openApp(page, ui);
  await page.getByTestId('nav-benchmarks').click();
  await page.getByTestId('runs-new').click();
  const list = await apiCall<Deployment[]>(ui, 'deployments.list');
  await page.getByTestId('bench-deployment').selectOption(list.find((d) => d.name === 'bench-agg')!.id);
  await page.getByTestId('bench-preset-custom').locator('input').check();
  await page.getByTestId('bench-requestCount').fill('400');
  await page.getByTestId('bench-warmupRequestCount').fill('0');
  await page.getByTestId('bench-load').fill('4');
  await page.getByTestId('bench-start').click();
  await expect(page.getByTestId('bench-live-phase')).toHaveText('profiling', { timeout: 60_000 });
  await expect.poll(async () => Number(((await page.getByTestId('bench-live-done').textContent()) ?? '0').split('/')[0]), { timeout: 60_000 }).toBeGreaterThan(0);
  await page.getByTestId('task-cancel').click();
  await expect(page.getByTestId('task-progress')).toHaveAttribute('data-state', 'cancelled', { timeout: 60_000 });
  const runId = ((await page.getByTestId('bench-live').getAttribute('data-run-id')) ?? '').trim();
  await expect.poll(async () => (await apiCall<Array<{ id: string; status: string }>>(ui, 'runs.list')).find((r) => r.id === runId)?.status, { timeout: 60_000 }).toBe('partial');
  await page.screenshot({ path: screenshotPath('bench-10-cancelled') });
  await page.getByTestId(`bench-open-run-${runId}`).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'partial');
  expect(Number(await page.getByTestId('kpi-requests').getAttribute('data-value'))).toBeLessThan(400);
  expect(errors).toEqual([]);
});

test('runs a custom concurrency sweep and draws throughput against concurrency and the Pareto chart', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = watchPage(page);
  await openApp(page, ui);
  await page.getByTestId('nav-benchmarks').click();
  await page.getByTestId('runs-new').click();
  const list = await apiCall<Deployment[]>(ui, 'deployments.list');
  await page.getByTestId('bench-deployment').selectOption(list.find((d) => d.name === 'bench-pd')!.id);
  await page.getByTestId('bench-preset-custom').locator('input').check();
  await page.getByTestId('bench-islMean').fill('256');
  await page.getByTestId('bench-oslMean').fill('16');
  await page.getByTestId('bench-load').fill('1, x');
  await page.getByTestId('bench-requestCount').fill('8');
  await page.getByTestId('bench-warmupRequestCount').fill('0');
  await page.getByTestId('bench-slos').fill('time_to_first_token:60');
  await page.getByTestId('bench-clientCpus').fill('3-1');
  await page.getByTestId('bench-start').click();
  await expect(page.getByTestId('bench-load-error')).toContainText('"x" is not a concurrency');
  await expect(page.getByTestId('bench-clientCpus-error')).toHaveText('The range 3-1 runs backwards.');
  await page.getByTestId('bench-load').fill('1, 2, 4');
  await page.getByTestId('bench-clientCpus').fill('0');
  await page.getByTestId('bench-start').click();
  await expect(page.getByTestId('task-progress')).toHaveAttribute('data-state', 'succeeded', { timeout: 180_000 });
  await page.getByTestId('bench-open-sweep').click();
  await expect(page.getByTestId('page-sweep')).toBeVisible();
  await expect(page.getByTestId('sweep-runs').locator('tbody tr')).toHaveCount(3);
  for (const chart of ['sweep-throughput', 'sweep-pareto']) {
    await expect(page.getByTestId(`bench-chart-${chart}`).locator('svg.recharts-surface').first()).toBeVisible({ timeout: 15_000 });
    await expect.poll(async () => Number(await page.getByTestId(`bench-chart-${chart}`).getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  }
  await fullShot(page, 'bench-9-sweep');

  // Goodput against the SLO, and the SLO marked on the TTFT distribution.
  await page.getByTestId('sweep-runs').locator('tbody tr').first().click();
  await expect(page.getByTestId('kpi-goodput')).toContainText('Time to first token ≤ 60 ms');
  expect(Number(await page.getByTestId('kpi-goodput').getAttribute('data-value'))).toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId('bench-chart-cdf-ttft').locator('.recharts-reference-line')).not.toHaveCount(0);

  // The same sweep on the aggregated deployment, then the two sweeps compared point by point.
  const agg = list.find((d) => d.name === 'bench-agg')!;
  const pd = (await apiCall<Array<{ id: string; group: string | null; deployment: { name: string } | null }>>(ui, 'runs.list')).find((r) => r.group && r.deployment?.name === 'bench-pd')!;
  // The Client CPUs field reached the agent: the built-in generator ran pinned and the record says where.
  expect((await apiCall<RunDetail>(ui, 'runs.get', { id: pd.id })).run?.tool.cpus).toBe('0');
  const other = await apiCall<{ group: string; task: { id: string } }>(ui, 'runs.sweep', {
    deployment: agg.id,
    workload: { islMean: 256, islStddev: 0, oslMean: 16, oslStddev: 0, exactOutput: true, requestCount: 8, warmupRequestCount: 0, streaming: true, endpointType: 'chat', slos: 'time_to_first_token:60' },
    concurrencies: [1, 2, 4],
  });
  await expect.poll(async () => (await apiCall<{ state: string }>(ui, 'tasks.get', { id: other.task.id })).state, { timeout: 120_000 }).toBe('succeeded');
  await page.getByTestId('nav-benchmarks').click();
  await page.getByTestId(`sweep-select-${other.group}`).check();
  await page.getByTestId(`sweep-select-${pd.group}`).check();
  await page.getByTestId('runs-compare').click();
  await expect(page.getByTestId('compare-verdict-sentence')).toContainText(/^disaggregated over concurrency 1, 2, 4: /, { timeout: 30_000 });
  for (const i of [0, 1, 2]) await expect(page.getByTestId(`compare-point-${i}-verdict`)).not.toBeEmpty();
  await fullShot(page, 'bench-11-compare-sweeps');
  expect(errors).toEqual([]);
});
