/**
 * The Export menu of the run, sweep and compare views in `handoff serve`: each format runs as a
 * task with progress, says where the files went, and downloads them through the browser.
 */
import fs from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { PLANTED_SECRETS, writeFixtureRun } from './report-fixture';
import { screenshotPath, startUiServer, type UiServer } from './ui-fixture';
import { openApp, watchPage } from './ui-page';

let ui: UiServer;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  ui = await startUiServer();
  await writeFixtureRun(ui.home, { id: 'run-ui-c2', requests: 80, concurrency: 2, group: 'sweep-ui', plantSecrets: true });
  await writeFixtureRun(ui.home, { id: 'run-ui-c4', requests: 80, concurrency: 4, group: 'sweep-ui', seed: 3 });
  await writeFixtureRun(ui.home, { id: 'run-ui-agg', requests: 80, concurrency: 4, mode: 'aggregated', slowdown: 1.3, seed: 5 });
});

test.afterAll(async () => {
  await ui?.close();
});

async function exportAndDownload(page: Page, prefix: string, format: string, timeoutMs = 60_000): Promise<{ paths: string[]; text: string }> {
  await page.getByTestId(`${prefix}-button`).click();
  await expect(page.getByTestId(`${prefix}-menu`)).toBeVisible();
  await page.getByTestId(`${prefix}-${format}`).click();
  await expect(page.getByTestId(`${prefix}-done`)).toBeVisible({ timeout: timeoutMs });
  const paths = await page.getByTestId(`${prefix}-path`).allTextContents();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`${prefix}-download`).first().click()]);
  const file = await download.path();
  const text = await fs.readFile(file!, 'latin1');
  return { paths, text };
}

test('exports the run view as self-contained HTML and downloads it, with no secret in it', async ({ page }) => {
  const errors = watchPage(page);
  await openApp(page, ui, { hash: '#/benchmarks/run/run-ui-c2', height: 1000 });
  await expect(page.getByTestId('run-title')).toBeVisible();
  const { paths, text } = await exportAndDownload(page, 'run-export', 'html');
  expect(paths).toHaveLength(1);
  expect(paths[0]).toMatch(/\.html$/);
  expect(text).toContain('<svg');
  expect(text).toContain('data-run-id="run-ui-c2"');
  expect(text).toContain('Simulated engine');
  for (const s of Object.values(PLANTED_SECRETS)) expect(text).not.toContain(s);
  await page.screenshot({ path: screenshotPath('ui-report-run-export') });
  expect(errors).toEqual([]);
});

test('exports the sweep as CSV tables and shows both files', async ({ page }) => {
  await openApp(page, ui, { hash: '#/benchmarks/sweep/sweep-ui', height: 1000 });
  const { paths, text } = await exportAndDownload(page, 'sweep-export', 'csv');
  expect(paths.map((p) => p.split('/').pop())).toEqual(['requests.csv', 'metrics.csv']);
  expect(text.split('\n')[0]).toBe('runId,id,phase,sendNs,firstTokenNs,firstContentNs,lastTokenNs,inputTokens,outputTokensUsage,outputTokensChunks,outputTokensTokenizer,outputTokensReasoning,errorCode,errorType,errorMessage,ttftMs,ttstMs,itlMs,requestLatencyMs,tpsPerUser,isl,osl,chunkCount,chunkNs');
});

test('exports the comparison as a PDF with progress shown while Chromium prints', async ({ page }) => {
  await openApp(page, ui, { hash: '#/benchmarks/compare/run-ui-agg/run-ui-c4', height: 1000 });
  await page.getByTestId('compare-export-button').click();
  await page.getByTestId('compare-export-pdf').click();
  // The task's steps show while it runs (printing takes a few seconds).
  await expect(page.getByTestId('compare-export-progress').or(page.getByTestId('compare-export-done'))).toBeVisible();
  await expect(page.getByTestId('compare-export-done')).toBeVisible({ timeout: 120_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-export-download').click()]);
  const bytes = await fs.readFile((await download.path())!);
  expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
  await page.screenshot({ path: screenshotPath('ui-report-compare-export') });
});

test('exports a re-runnable bundle from the sweep view', async ({ page }) => {
  await openApp(page, ui, { hash: '#/benchmarks/sweep/sweep-ui', height: 1000 });
  const { paths, text } = await exportAndDownload(page, 'sweep-export', 'bundle');
  expect(paths[0]).toMatch(/\.tar\.gz$/);
  // gzip magic bytes
  expect(text.charCodeAt(0)).toBe(0x1f);
  expect(text.charCodeAt(1)).toBe(0x8b);
});
