import { expect, test, type Page } from '@playwright/test';
import { isTaskFinished } from '../common/task';
import { chatAggregatedSpec, chatDisaggregatedSpec, connectWsApi, longPrompt, workerMetric, type WsApi } from './chat-harness';
import { screenshotPath, startUiServer, type UiServer } from './ui-fixture';

/**
 * The chat playground in the browser, against two mocker deployments on this computer started
 * through the same controller: disaggregated (prefill + decode + router) and aggregated.
 */
let ui: UiServer;
let api: WsApi;
const ids = { pd: '', agg: '' };

async function deploy(specText: string): Promise<string> {
  const { deployment, task } = await api.call('deployments.apply', { specText });
  let t = task;
  while (!isTaskFinished(t)) {
    await new Promise((r) => setTimeout(r, 250));
    t = await api.call('tasks.get', { id: task.id });
  }
  if (t.state !== 'succeeded') throw new Error(`deploy failed: ${t.error?.message}`);
  return deployment.id;
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  ui = await startUiServer();
  api = await connectWsApi(ui.serve.url);
  ids.pd = await deploy(await chatDisaggregatedSpec('chat-pd'));
  ids.agg = await deploy(await chatAggregatedSpec('chat-agg'));
});
test.afterAll(async () => {
  test.setTimeout(120_000);
  for (const id of [ids.pd, ids.agg]) if (id) await api?.call('deployments.teardown', { id }).catch(() => undefined);
  api?.close();
  await ui?.close();
});

async function openPlayground(page: Page): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(ui.serve.url).origin });
  await page.goto(ui.serve.url.replace(/#.*$/, '') + '#/playground');
  await expect(page.getByTestId('page-playground')).toBeVisible();
  await expect(page.getByTestId('lane-0-deployment').locator('option', { hasText: 'chat-pd' })).toHaveCount(1);
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

const workers = async (id: string) => {
  const view = await api.call('deployments.status', { id });
  const get = (name: string) => view.processes.find((p) => p.name === name)!;
  return { prefill: get('prefill-0'), decode: get('decode-0'), router: get('router') };
};

test('a chat with a mocker disaggregated deployment streams text and shows TTFT, ITL and the P/D stats of the router trace', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('lane-0-deployment').selectOption(ids.pd);
  await expect(page.getByTestId('lane-0-simulated')).toBeVisible();
  await expect(page.getByTestId('banner-playground-simulated')).toContainText('Simulated engine: "chat-pd" runs the mocker');
  await page.getByTestId('chat-system-prompt').fill('You are a terse assistant.');
  await page.getByTestId('param-maxTokens').fill('60');
  await page.getByTestId('param-temperature').fill('9');
  await expect(page.getByTestId('param-temperature-error')).toBeVisible();
  await page.getByTestId('param-temperature').fill('0.2');
  await page.getByTestId('param-seed').fill('7');

  await send(page, `Explain disaggregated prefill. ${longPrompt(200)}`);
  const reply = page.getByTestId('reply-lane-0');
  await expect(reply).toHaveAttribute('data-state', 'streaming');
  await expect(reply.getByTestId('reply-text')).not.toBeEmpty();
  await page.screenshot({ path: screenshotPath('chat-streaming') });
  await expect(reply).toHaveAttribute('data-state', 'done', { timeout: 30_000 });

  const w = await workers(ids.pd);
  await expect(reply.getByTestId('stat-ttft')).toHaveText(/\d+(\.\d)? m?s/);
  await expect(reply.getByTestId('stat-itl')).toHaveText(/\d+(\.\d)? ms/);
  await expect(reply.getByTestId('stat-tps')).toHaveText(/^\d+\.\d$/);
  await expect(reply.getByTestId('stat-output-tokens')).toHaveText('60');
  expect(Number(await reply.getByTestId('stat-input-tokens').textContent())).toBeGreaterThan(200);
  await expect(reply.getByTestId('pd-placement')).toHaveText('remote');
  await expect(reply.getByTestId('pd-reason')).toContainText('prefilled on a prefill worker');
  await expect(reply.getByTestId('pd-prefill-worker')).toHaveText(w.prefill.url);
  await expect(reply.getByTestId('pd-decode-worker')).toHaveText(w.decode.url);
  await expect(reply.getByTestId('pd-prefill-ms')).toHaveText(/\d+(\.\d)? m?s/);
  await expect(reply.getByTestId('pd-kv-transfer')).toHaveText(/\d+(\.\d)? m?s/);
  await expect(reply.getByTestId('reply-stats')).toContainText('upper bound');
  expect(Number(await reply.getByTestId('pd-kv-blocks').textContent())).toBeGreaterThan(0);

  const answer = (await reply.getByTestId('reply-text').innerText()).trim();
  await reply.getByTestId('reply-copy').click();
  await expect(reply.getByTestId('reply-copy')).toHaveAttribute('data-state', 'copied');
  expect((await page.evaluate(() => navigator.clipboard.readText())).trim().slice(0, 40)).toBe(answer.slice(0, 40));
  await page.screenshot({ path: screenshotPath('chat-pd-stats'), fullPage: true });

  // Regenerate replaces the answer with a new stream; the conversation is saved and survives a reload.
  const firstStream = await reply.getAttribute('data-stream-id');
  await reply.getByTestId('reply-regenerate').click();
  await expect(page.getByTestId('reply-lane-0')).not.toHaveAttribute('data-stream-id', firstStream!);
  await expect(page.getByTestId('reply-lane-0')).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  const saved = page.getByTestId('conversation-list').locator('li', { hasText: 'Explain disaggregated prefill.' });
  await expect(saved).toHaveCount(1);
  await page.reload();
  await page.getByTestId('chat-new').click();
  await expect(page.getByTestId('transcript-empty')).toBeVisible();
  await saved.getByTestId('conversation-open').click();
  await expect(page.getByTestId('turn-user')).toContainText('Explain disaggregated prefill.');
  await expect(page.getByTestId('reply-lane-0').getByTestId('pd-placement')).toHaveText('remote');
  await expect(page.getByTestId('chat-system-prompt')).toHaveValue('You are a terse assistant.');
});

test('Stop mid-stream cancels the answer and both legs: the router trace shows the abort, no worker keeps the request', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('chat-new').click();
  await page.getByTestId('lane-0-deployment').selectOption(ids.pd);
  await page.getByTestId('param-maxTokens').fill('2000');
  const w = await workers(ids.pd);
  const decodeAborts = await workerMetric(w.decode, 'vllm:request_success_total', { finished_reason: 'abort' });

  await send(page, 'Write a very long story.');
  const reply = page.getByTestId('reply-lane-0');
  await expect(reply.getByTestId('reply-text')).toContainText(/\S+ \S+ \S+/);
  await page.getByTestId('chat-stop').click();
  await expect(reply).toHaveAttribute('data-state', 'stopped');
  await expect(reply.getByTestId('reply-stopped')).toBeVisible();
  await expect(reply.getByTestId('pd-abort')).toContainText('cancelled the decode leg');
  await expect(reply.getByTestId('stat-output-tokens')).toHaveText(/^\d+\*$/);
  await expect.poll(() => workerMetric(w.decode, 'vllm:request_success_total', { finished_reason: 'abort' })).toBe(decodeAborts + 1);
  expect(await workerMetric(w.decode, 'vllm:num_requests_running')).toBe(0);
  expect(await workerMetric(w.prefill, 'vllm:num_requests_running')).toBe(0);
  await reply.scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('chat-stopped-mid-stream') });

  // Stopped while the prompt is still in the prefill leg: the router cancels it and sends no decode leg.
  const prefillAborts = await workerMetric(w.prefill, 'vllm:request_success_total', { finished_reason: 'abort' });
  await page.getByTestId('param-maxTokens').fill('8');
  await send(page, longPrompt(900));
  const second = page.getByTestId('turn').nth(1).getByTestId('reply-lane-0');
  await expect(second.getByTestId('reply-waiting')).toBeVisible();
  await expect.poll(() => workerMetric(w.router, 'handoff_router_outstanding_requests', { role: 'prefill' }), { timeout: 5000 }).toBe(1);
  await second.getByTestId('reply-stop').click();
  await expect(second).toHaveAttribute('data-state', 'stopped');
  await expect(second.getByTestId('reply-stopped')).toContainText('before the first token');
  await expect(second.getByTestId('pd-abort')).toContainText('cancelled the prefill leg and sent no decode leg');
  await expect.poll(() => workerMetric(w.prefill, 'vllm:request_success_total', { finished_reason: 'abort' })).toBe(prefillAborts + 1);
  await page.getByTestId('transcript').screenshot({ path: screenshotPath('chat-stopped-in-prefill') });
});

test('side by side sends the same prompt to the aggregated and the disaggregated deployment at once', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('chat-new').click();
  await page.getByTestId('lane-0-deployment').selectOption(ids.pd);
  await page.getByTestId('chat-side-by-side').check();
  await page.getByTestId('lane-1-deployment').selectOption(ids.agg);
  await expect(page.getByTestId('banner-playground-simulated')).toContainText('"chat-pd" and "chat-agg" run the mocker');
  await page.getByTestId('param-maxTokens').fill('40');
  await send(page, `Compare us. ${longPrompt(150)}`);
  const left = page.getByTestId('reply-lane-0');
  const right = page.getByTestId('reply-lane-1');
  await expect(left).toHaveAttribute('data-state', 'streaming');
  await expect(right).toHaveAttribute('data-state', 'streaming');
  await expect(left).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(right).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(left.getByTestId('reply-deployment')).toHaveText('chat-pd');
  await expect(right.getByTestId('reply-deployment')).toHaveText('chat-agg');
  await expect(left.getByTestId('pd-placement')).toHaveText('remote');
  await expect(right.getByTestId('pd-placement')).toHaveText('local');
  await expect(right.getByTestId('pd-reason')).toContainText('aggregated deployment');
  await expect(right.getByTestId('pd-kv-blocks')).toHaveCount(0);
  await expect(left.getByTestId('stat-output-tokens')).toHaveText('40');
  await expect(right.getByTestId('stat-output-tokens')).toHaveText('40');
  await page.getByTestId('turn').screenshot({ path: screenshotPath('chat-side-by-side-answers') });
  await page.screenshot({ path: screenshotPath('chat-side-by-side') });
});

test('errors show inline with what to do: context too long, and a deployment that was stopped', async ({ page }) => {
  await openPlayground(page);
  await page.getByTestId('chat-new').click();
  await page.getByTestId('lane-0-deployment').selectOption(ids.pd);
  await send(page, longPrompt(3000));
  const reply = page.getByTestId('reply-lane-0');
  await expect(reply).toHaveAttribute('data-state', 'error');
  await expect(reply.getByTestId('reply-error')).toHaveAttribute('data-error-code', 'context-too-long');
  await expect(reply.getByTestId('reply-error-message')).toContainText('maximum context length is 2048 tokens');
  await expect(reply.getByTestId('reply-error-message')).toContainText('Start a new conversation');

  await page.getByTestId('chat-new').click();
  await page.getByTestId('lane-0-deployment').selectOption(ids.agg);
  await api.call('deployments.teardown', { id: ids.agg });
  ids.agg = '';
  await send(page, 'Are you there?');
  const down = page.getByTestId('reply-lane-0');
  await expect(down).toHaveAttribute('data-state', 'error');
  await expect(down.getByTestId('reply-error')).toHaveAttribute('data-error-code', 'deployment-stopped');
  await expect(down.getByTestId('reply-error-message')).toContainText('Deploy it again');
  await page.screenshot({ path: screenshotPath('chat-errors'), fullPage: true });
});
