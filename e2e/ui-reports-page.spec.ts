/**
 * The Reports page in `handoff serve`: a newcomer's empty state, runs and sweeps listed with their
 * Export menu and the simulated label, an HTML export made from the page landing in the export
 * history (with a Download, since a browser cannot open the controller's paths), a composed
 * aggregated-vs-disaggregated comparison, and a damaged history file repaired in plain view.
 * Screenshots go to docs/screenshots/ (README and docs/reports.md show them).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { writeFixtureRun } from './report-fixture';
import { startUiServer, type UiServer } from './ui-fixture';
import { openApp, watchPage } from './ui-page';

const SHOTS = path.join('docs', 'screenshots');
let ui: UiServer;
let errors: string[] = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  ui = await startUiServer();
  await fs.mkdir(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await ui?.close();
});

async function open(page: Page): Promise<void> {
  errors = watchPage(page);
  await openApp(page, ui, { hash: '#/reports', height: 1000 });
  await expect(page.getByTestId('page-reports')).toBeVisible();
}

test('tells a newcomer with no runs what to do next, with buttons that lead there', async ({ page }) => {
  await open(page);
  const empty = page.getByTestId('reports-empty');
  await expect(empty).toContainText('Nothing to report yet');
  await expect(empty).toContainText('Run a benchmark');
  await expect(empty).toContainText('import results');
  await expect(page.getByTestId('history-empty')).toBeVisible();
  await expect(page.getByTestId('coming-soon')).toHaveCount(0);
  await page.screenshot({ path: path.join(SHOTS, 'reports-empty.png') });

  await page.getByTestId('reports-empty-import').click();
  await expect(page.getByTestId('import-drop-zone')).toBeVisible();
  await page.getByTestId('reports-empty-bench').click();
  await expect(page).toHaveURL(/#\/benchmarks\/new$/);
  expect(errors).toEqual([]);
});

test('lists runs and sweeps with the simulated label, and filters them', async ({ page }) => {
  await writeFixtureRun(ui.home, { id: 'run-rp-disagg', requests: 60, concurrency: 4, mode: 'disaggregated', seed: 2 });
  await writeFixtureRun(ui.home, { id: 'run-rp-agg', requests: 60, concurrency: 4, mode: 'aggregated', slowdown: 1.3, seed: 5 });
  await writeFixtureRun(ui.home, { id: 'run-rp-real', name: 'seed-disaggregated on gpu1 · concurrency 4', requests: 60, concurrency: 4, simulated: false, seed: 7 });
  await writeFixtureRun(ui.home, { id: 'run-rp-c2', requests: 40, concurrency: 2, group: 'sweep-rp', seed: 3 });
  await writeFixtureRun(ui.home, { id: 'run-rp-c8', requests: 40, concurrency: 8, group: 'sweep-rp', seed: 4 });
  await open(page);

  await expect(page.getByTestId('reports-runs')).toBeVisible();
  for (const id of ['run-rp-disagg', 'run-rp-agg', 'run-rp-real', 'run-rp-c2', 'run-rp-c8']) await expect(page.getByTestId(`reports-run-export-${id}-button`)).toBeVisible();
  await expect(page.getByTestId('reports-run-run-rp-disagg-simulated')).toHaveText('Simulated');
  await expect(page.getByTestId('reports-run-run-rp-real-simulated')).toHaveCount(0);
  await expect(page.getByTestId('reports-sweep-sweep-rp-simulated')).toBeVisible();
  await expect(page.getByTestId('reports-sweep-export-sweep-rp-button')).toBeVisible();
  await expect(page.getByTestId('reports-count')).toHaveText('5 runs');

  await page.getByTestId('reports-filter-engine').selectOption('real');
  await expect(page.getByTestId('reports-count')).toHaveText('1 of 5 runs');
  await expect(page.getByTestId('reports-run-run-rp-real')).toBeVisible();
  await page.getByTestId('reports-filter-engine').selectOption('all');
  await page.getByTestId('reports-search').fill('mocker-aggregated');
  await expect(page.getByTestId('reports-count')).toHaveText('1 of 5 runs');
  await expect(page.getByTestId('reports-run-run-rp-agg')).toBeVisible();
  await page.getByTestId('reports-search').fill('no such run');
  await expect(page.getByTestId('reports-no-match')).toBeVisible();
  await page.getByTestId('reports-filter-clear').click();
  await expect(page.getByTestId('reports-count')).toHaveText('5 runs');
  expect(errors).toEqual([]);
});

test('exports HTML from a run row, and the history shows its file, source run and simulated label', async ({ page }) => {
  await open(page);
  const prefix = 'reports-run-export-run-rp-disagg';
  await page.getByTestId(`${prefix}-button`).click();
  await page.getByTestId(`${prefix}-html`).click();
  await expect(page.getByTestId(`${prefix}-done`)).toBeVisible({ timeout: 60_000 });
  const exported = (await page.getByTestId(`${prefix}-path`).textContent())!;
  expect(exported).toMatch(new RegExp(`^${ui.home}/reports/.*\\.html$`));
  await page.getByTestId(`${prefix}-dismiss`).click();

  const rows = page.getByTestId('history-table').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  const row = rows.first();
  await expect(row).toHaveAttribute('data-format', 'html');
  await expect(row.locator('[data-testid^="history-path-"]')).toHaveText(exported);
  await expect(row.locator('[data-testid^="history-format-"]')).toHaveText('HTML');
  await expect(row.locator('[data-testid^="history-simulated-"]')).toHaveText('Simulated');
  await expect(row.locator('[data-testid^="history-runs-"]')).toContainText('mocker-disaggregated · concurrency 4');
  // The browser cannot open the controller's files: it offers a copy instead of Open.
  await expect(row.locator('[data-testid$="-open"]')).toHaveCount(0);
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid$="-download"]').click()]);
  const html = await fs.readFile((await download.path())!, 'utf8');
  expect(html).toContain('data-run-id="run-rp-disagg"');
  expect(html).toContain('<svg');

  // The history lives in $HANDOFF_HOME/reports/history.json, valid for the next start.
  const stored = JSON.parse(await fs.readFile(path.join(ui.home, 'reports', 'history.json'), 'utf8')) as { entries: Array<{ files: Array<{ path: string }> }> };
  expect(stored.entries.map((e) => e.files[0]!.path)).toEqual([exported]);
  await page.getByTestId('history').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'reports-history.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('composes an aggregated-vs-disaggregated comparison and exports it from the page', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('compose-hint')).toContainText('Pick two runs');
  await page.getByTestId('compose-suggest').click();
  await expect(page.getByTestId('compose-picks').locator('li')).toHaveCount(2);
  await expect(page.getByTestId('compose-pick-run-rp-agg')).toContainText('A · baseline');
  await expect(page.getByTestId('compose-pick-run-rp-disagg')).toContainText('B');
  await expect(page.getByTestId('compose-verdict')).toContainText('The report will say:');
  await expect(page.getByTestId('compose-simulated')).toContainText('Simulated engine');
  await page.getByTestId('compose-title').fill('Aggregated vs disaggregated at concurrency 4');
  await page.screenshot({ path: path.join(SHOTS, 'reports-compose.png') });

  await page.getByTestId('compose-export-button').click();
  await page.getByTestId('compose-export-html').click();
  await expect(page.getByTestId('compose-export-done')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('compose-export-done')).toContainText('(simulated engine)');

  const rows = page.getByTestId('history-table').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.first().locator('[data-testid^="history-title-"]')).toHaveText('Aggregated vs disaggregated at concurrency 4');
  await expect(rows.first()).toContainText('comparison');
  await expect(rows.first().locator('[data-testid^="history-runs-"]')).toContainText('A vs B');
  expect(errors).toEqual([]);
});

test('says so when the history file was damaged, keeps it aside and lists the exports again', async ({ page }) => {
  const reportsDir = path.join(ui.home, 'reports');
  await fs.writeFile(path.join(reportsDir, 'history.json'), '{"version":1,"entries":[{"id":');
  await open(page);
  await expect(page.getByTestId('history-problem')).toContainText('was damaged');
  const rows = page.getByTestId('history-table').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.first().locator('[data-testid^="history-recovered-"]')).toHaveText('Recovered');
  // Read back from the reports' own banner: still labelled simulated.
  await expect(rows.first().locator('[data-testid^="history-simulated-"]')).toHaveText('Simulated');
  const kept = (await fs.readdir(reportsDir)).filter((n) => n.startsWith('history.damaged-'));
  expect(kept).toHaveLength(1);
  expect(await fs.readFile(path.join(reportsDir, kept[0]!), 'utf8')).toBe('{"version":1,"entries":[{"id":');
  await page.getByTestId('history').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'reports-history-repaired.png') });
  expect(errors).toEqual([]);
});
