import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { chatDisaggregatedSpec, connectWsApi, waitForTask, type WsApi } from './chat-harness';
import { startUiServer, type UiServer } from './ui-fixture';

/**
 * NIXL per-transfer telemetry in the run view: a mocker P/D deployment on this computer (the
 * planner turns telemetry on for its decode worker), one short benchmark through the controller,
 * and the run's KV-cache card showing the per-block histogram and CDF drawn from transfers.jsonl,
 * with the vllm:nixl_* average beside the telemetry figure. Screenshot in docs/screenshots/.
 */

let ui: UiServer;
let api: WsApi;
let deploymentId = '';
const SMALL_SEED = { preset: 'seed' as const, islMean: 256, oslMean: 8, minTokens: 8, maxTokens: 8, requestCount: 12, warmupRequestCount: 2 };

const untilDone = <T extends { id: string; state: string }>(task: T): Promise<T> => waitForTask(api, task);

test.beforeAll(async () => {
  test.setTimeout(300_000);
  ui = await startUiServer(process.env.HANDOFF_RENDERER_DIR ? { staticDir: process.env.HANDOFF_RENDERER_DIR } : {});
  api = await connectWsApi(ui.serve.url);
});

test.afterAll(async () => {
  test.setTimeout(120_000);
  if (deploymentId) await api?.call('deployments.teardown', { id: deploymentId }).catch(() => undefined);
  api?.close();
  await ui?.close();
});

test('shows the per-block latency histogram and CDF from NIXL telemetry beside the vllm:nixl_* figure', async ({ page }) => {
  test.setTimeout(400_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const { deployment, task } = await api.call('deployments.apply', { specText: await chatDisaggregatedSpec('telemetry-pd') });
  deploymentId = deployment.id;
  const dt = await untilDone(task);
  expect(dt.state, JSON.stringify(dt)).toBe('succeeded');
  const started = await api.call('runs.start', { deployment: deployment.id, workload: SMALL_SEED });
  const bt = await untilDone(started.task);
  expect(bt.state, JSON.stringify(bt)).toBe('succeeded');
  const runId = started.runIds[0]!;

  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${ui.serve.url.replace(/#.*$/, '')}#/benchmarks/run/${encodeURIComponent(runId)}`);
  await expect(page.getByTestId('page-run')).toHaveAttribute('data-run-id', runId);

  const histogram = page.getByTestId('bench-chart-histogram-kv-telemetry-per-block');
  await expect(histogram).toBeVisible({ timeout: 30_000 });
  await expect(histogram.locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expect(page.getByTestId('bench-chart-cdf-kv-telemetry-per-block')).toBeVisible();
  await expect(page.getByTestId('bench-chart-kv-telemetry-over-time')).toBeVisible();
  await expect(page.getByTestId('bench-chart-histogram-kv-telemetry-bytes')).toBeVisible();
  // TP=2 decode: each request's KV read by two ranks, warmup included.
  expect(Number((await page.getByTestId('kv-telemetry-count').textContent())?.replace(/,/g, ''))).toBeGreaterThanOrEqual(24);
  const row = page.getByTestId('kv-telemetry-crosscheck-decode-0');
  await expect(row).toBeVisible();
  const telemetry = Number(await row.getAttribute('data-telemetry'));
  const aggregate = Number(await row.getAttribute('data-aggregate'));
  expect(telemetry).toBeGreaterThan(0);
  expect(aggregate).toBeGreaterThan(0);
  // Both come from the same simulated transfers: NIXL's whole microseconds are the only difference.
  expect(Math.abs(telemetry - aggregate) / aggregate).toBeLessThan(0.05);
  await expect(page.getByTestId('kv-telemetry-descriptors')).toContainText('not in NIXL’s telemetry file');

  const shots = path.resolve('docs', 'screenshots');
  await fs.mkdir(shots, { recursive: true });
  const card = page.getByTestId('run-charts-kv');
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: path.join(shots, 'kv-telemetry.png') });
  expect(errors).toEqual([]);
});
