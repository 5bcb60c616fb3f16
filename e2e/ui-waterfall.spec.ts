import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import YAML from 'yaml';
import { connectWsApi, waitForTask, type WsApi } from './chat-harness';
import { exampleSpec } from './harness/deploy-specs';
import { startUiServer, type UiServer } from './ui-fixture';

/**
 * "Where did TTFT go" in the browser: a mocker P/D deployment on this computer benchmarked through
 * the controller, its run view's disaggregation panel, TTFT breakdown and per-request waterfall
 * (picked by button and by a click on the scatter), the red panel of a deployment whose router
 * prefills everything on decode, and a playground reply's waterfall. Screenshots go to
 * docs/screenshots/ (the docs show them).
 */

test.describe.configure({ mode: 'serial' });

let ui: UiServer;
let api: WsApi;
const deployments: string[] = [];
let pdId = '';
const SHOTS = path.resolve('docs', 'screenshots');
/** The seed preset made small for a 2-core machine (as e2e/runs.itest.ts). */
const SMALL_SEED = { preset: 'seed' as const, islMean: 256, oslMean: 16, minTokens: 16, maxTokens: 16, requestCount: 16, warmupRequestCount: 2 };

const untilDone = <T extends { id: string; state: string }>(task: T): Promise<T> => waitForTask(api, task);

async function deploy(specText: string): Promise<string> {
  const { deployment, task } = await api.call('deployments.apply', { specText });
  deployments.push(deployment.id);
  const t = await untilDone(task);
  if (t.state !== 'succeeded') throw new Error(`deploy failed: ${JSON.stringify(t)}`);
  return deployment.id;
}

/** The shipped mocker P/D example (its default latency model) on free ports, named. */
async function pdSpec(name: string): Promise<Record<string, unknown>> {
  const spec = YAML.parse((await exampleSpec({ prefill: 'this-computer', decode: 'this-computer' })).text) as Record<string, unknown>;
  return { ...spec, name };
}

async function bench(deployment: string): Promise<string> {
  const started = await api.call('runs.start', { deployment, workload: SMALL_SEED });
  const t = await untilDone(started.task);
  if (t.state !== 'succeeded') throw new Error(`benchmark failed: ${JSON.stringify(t)}`);
  return started.runIds[0]!;
}

async function shot(page: Page, locator: ReturnType<Page['getByTestId']>, name: string): Promise<void> {
  await fs.mkdir(SHOTS, { recursive: true });
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function openRun(page: Page, id: string): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${ui.serve.url.replace(/#.*$/, '')}#/benchmarks/run/${encodeURIComponent(id)}`);
  await expect(page.getByTestId('page-run')).toHaveAttribute('data-run-id', id);
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  ui = await startUiServer(process.env.HANDOFF_RENDERER_DIR ? { staticDir: process.env.HANDOFF_RENDERER_DIR } : {});
  api = await connectWsApi(ui.serve.url);
});

test.afterAll(async () => {
  test.setTimeout(120_000);
  for (const id of deployments) await api?.call('deployments.teardown', { id }).catch(() => undefined);
  api?.close();
  try {
    await ui?.close();
  } catch {
    // The local agent may still be removing a stopped deployment's files while the home is deleted.
    await new Promise((r) => setTimeout(r, 1000));
    await fs.rm(ui.home, { recursive: true, force: true });
  }
});

test('shows where TTFT went in a disaggregated run: panel, breakdown, and one request picked by button and by click', async ({ page }) => {
  test.setTimeout(400_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const dep = await deploy(YAML.stringify(await pdSpec('wf-pd')));
  pdId = dep;
  const runId = await bench(dep);
  await openRun(page, runId);

  const section = page.getByTestId('run-waterfall');
  await expect(section).toBeVisible({ timeout: 30_000 });
  expect(Number(await section.getAttribute('data-max-sum-error-ms'))).toBeLessThan(1);
  const panel = page.getByTestId('wf-disagg');
  await expect(panel).toHaveAttribute('data-status', 'ok');
  await expect(panel.getByTestId('wf-disagg-ratio')).toContainText('100%');
  await expect(panel).toContainText('Disaggregation is working');
  await expect(page.getByTestId('wf-breakdown-all-prefill')).toBeVisible();
  await expect(page.getByTestId('wf-breakdown-all-kv-transfer')).toBeVisible();

  // The slowest request is shown first; its phases add up to its TTFT.
  const chart = page.getByTestId('waterfall-request');
  const slowest = await chart.getAttribute('data-request-id');
  const sumOk = async () => Math.abs(Number(await chart.getAttribute('data-phases-ms')) - Number(await chart.getAttribute('data-ttft-ms')));
  expect(await sumOk()).toBeLessThan(1);
  for (const id of ['client-to-router', 'prefill', 'kv-transfer', 'decode']) await expect(page.getByTestId(`waterfall-request-phase-${id}`)).toBeVisible();
  await expect(page.getByTestId('waterfall-request-phase-kv-transfer')).toHaveAttribute('data-basis', /upper-bound|measured/);
  await shot(page, section, 'waterfall-run');
  // Zoomed to the handoff, the KV transfer and first decode step are wide enough to read.
  await page.getByTestId('waterfall-request-zoom-handoff').click();
  await shot(page, chart, 'waterfall-request-handoff');
  await page.getByTestId('waterfall-request-zoom-all').click();

  await page.getByTestId('wf-pick-p50').click();
  await expect(chart).not.toHaveAttribute('data-request-id', slowest ?? '');
  expect(await sumOk()).toBeLessThan(1);
  // A click on a dot of the scatter picks that request.
  const before = await chart.getAttribute('data-request-id');
  const dots = page.getByTestId('wf-picker').locator('.recharts-scatter-symbol');
  await expect(dots.first()).toBeVisible();
  const n = await dots.count();
  for (let i = 0; i < n; i++) {
    await dots.nth(i).click({ force: true });
    if ((await chart.getAttribute('data-request-id')) !== before) break;
  }
  await expect(chart).not.toHaveAttribute('data-request-id', before ?? '');
  expect(errors).toEqual([]);
});

test('turns the panel red for a deployment whose router prefills every prompt on the decode worker', async ({ page }) => {
  test.setTimeout(400_000);
  const spec = await pdSpec('wf-bypass');
  (spec.router as Record<string, unknown>).disaggregation = { remotePrefillMinTokens: 1_000_000 };
  // Other simulated GPUs than wf-pd's.
  for (const w of spec.workers as Array<{ role: string; gpus: number[] }>) w.gpus = w.role === 'prefill' ? [3] : [4, 5];
  const dep = await deploy(YAML.stringify(spec));
  const runId = await bench(dep);
  await openRun(page, runId);
  const panel = page.getByTestId('wf-disagg');
  await expect(panel).toHaveAttribute('data-status', 'bad', { timeout: 30_000 });
  await expect(panel.getByTestId('wf-disagg-title')).toHaveText('Disaggregation is not happening');
  await expect(panel).toContainText(/prefill workers handled none of the \d+ requests/);
  await expect(page.getByTestId('waterfall-request-phase-local-prefill')).toBeVisible();
  await shot(page, page.getByTestId('run-waterfall'), 'waterfall-bypassed');
});

test('shows a playground reply’s waterfall from the router trace', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1400, height: 1600 });
  await page.goto(`${ui.serve.url.replace(/#.*$/, '')}#/playground`);
  await expect(page.getByTestId('lane-0-deployment').locator('option', { hasText: 'wf-pd' })).toHaveCount(1);
  await page.getByTestId('lane-0-deployment').selectOption(pdId);
  await page.getByTestId('param-maxTokens').fill('24');
  await page.getByTestId('chat-input').fill(`Explain disaggregated prefill in one paragraph.${' Please.'.repeat(60)}`);
  await page.getByTestId('chat-send').click();
  const reply = page.getByTestId('reply-lane-0');
  await expect(reply).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await reply.getByTestId('reply-waterfall-toggle').click();
  const chart = reply.getByTestId('reply-waterfall-chart');
  await expect(chart).toBeVisible();
  for (const id of ['network', 'prefill', 'kv-transfer']) await expect(chart.getByTestId(`reply-waterfall-chart-phase-${id}`)).toBeVisible();
  await expect(chart.getByTestId('reply-waterfall-chart-phase-kv-transfer')).toHaveAttribute('data-basis', 'upper-bound');
  expect(Math.abs(Number(await chart.getAttribute('data-phases-ms')) - Number(await chart.getAttribute('data-ttft-ms')))).toBeLessThan(1);
  await shot(page, reply.getByTestId('reply-stats'), 'waterfall-playground');
});
